#!/usr/bin/env bash
# Overlays: each a read-only 9p share joined by overlayfs in the guest. The upper one
# wins over the rootfs and over earlier overlays; the rootfs and the overlays are not
# modified; the repo's overlays/autologin-serial ships an inittab. Also `--overlay`.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
P="$T/proj"
make_rootfs "$P/rootfs"
mkdir -p "$P/ovl1/etc" "$P/ovl2/etc"
echo "from-ovl1" > "$P/ovl1/etc/motd"
echo "only-in-ovl1" > "$P/ovl1/etc/ovl1-file"
echo "from-ovl2" > "$P/ovl2/etc/motd"
cat > "$P/quickboot.toml" <<EOF
rootfs = "rootfs"
overlays = ["ovl1", "ovl2", "$QB_SOURCE_DIR/overlays/autologin-serial"]
EOF
manifest "$P" > "$T/before"
cd "$P"
qb up -- sh -c 'cat /etc/motd /etc/ovl1-file; grep -c ttyS0 /etc/inittab; echo changed > /etc/motd' >"$T/o" 2>"$T/e" ||
  { cat "$T/e"; fail "up with overlays failed"; }
[ "$(sed -n 1p "$T/o")" = from-ovl2 ] || { cat "$T/o"; fail "the upper overlay did not win"; }
[ "$(sed -n 2p "$T/o")" = only-in-ovl1 ] || { cat "$T/o"; fail "a lower overlay's file is missing"; }
[ "$(sed -n 3p "$T/o")" -ge 1 ] || { cat "$T/o"; fail "autologin-serial's inittab missing"; }
rm -rf "$P/.quickboot"
manifest "$P" | cmp -s - "$T/before" || fail "the boot modified the rootfs or an overlay"

# The same with `quickboot run --overlay`; --writable is refused with overlays.
qb run "$P/rootfs" --overlay "$P/ovl1" -- cat /etc/motd >"$T/o" 2>"$T/e" || { cat "$T/e"; fail "run --overlay"; }
[ "$(cat "$T/o")" = from-ovl1 ] || { cat "$T/o"; fail "--overlay did not win over the rootfs"; }
expect_fail 1 "--overlay cannot be combined with --writable" -- qb run "$P/rootfs" --writable --overlay "$P/ovl1" -- true
expect_fail 1 "--overlay $P/nope: not a directory" -- qb run "$P/rootfs" --overlay "$P/nope" -- true
echo PASS
