#!/usr/bin/env bash
# The initramfs in its variants, each booted for real: every compression; the exact-
# compatibility mode that takes the runtime from the rootfs; an i686 kernel with the
# i386 busybox (what v86 runs).
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
make_rootfs "$T/root"

for c in zstd gzip lz4; do
  out=$(qb -q run "$T/root" --compress $c --timeout 300 -- cat /etc/motd) || fail "boot with --compress $c failed"
  [ "$out" = "quickboot example rootfs" ] || fail "--compress $c: got '$out'"
done

# --runtime rootfs: the image's /init is the rootfs's /usr/lib/initcpio/init. This
# fixture's runtime is quickboot's own, marked, since mkinitcpio itself is not packaged
# for Debian; on an Arch rootfs the same option picks up mkinitcpio's files.
mkdir -p "$T/root/usr/lib/initcpio"
sed 's/^export PATH=/echo "runtime-from-rootfs"\nexport PATH=/' "$QB_SOURCE_DIR/initrd/init" > "$T/root/usr/lib/initcpio/init"
cp "$QB_SOURCE_DIR/initrd/init_functions" "$T/root/usr/lib/initcpio/init_functions"
qb -q boot "$T/root" --runtime rootfs </dev/null >"$T/o" 2>&1 || { cat "$T/o"; fail "--runtime rootfs boot failed"; }
grep -q "runtime-from-rootfs" "$T/o" || { cat "$T/o"; fail "--runtime rootfs did not use the rootfs's init"; }
rm -rf "$T/root/usr/lib/initcpio"
expect_fail 1 "mkinitcpio runtime file" -- qb run "$T/root" --runtime rootfs -- true

# i686: Debian's 686 kernel, the i386 busybox, qemu-system-i386.
"$QB_SOURCE_DIR/kernels/busybox.sh" i386 >/dev/null
use_shared_kernel 686
make_rootfs "$T/root32" i386
out=$(qb -q run "$T/root32" --timeout 300 -- uname -m) || fail "i686 boot failed"
[ "$out" = "i686" ] || fail "i686 guest said '$out'"
echo PASS
