#!/usr/bin/env bash
# Hostile names in QEMU options (issue 15, items 3 and 12): a directory named "x,path="
# given as "x,path=/" (that same directory, with a slash) must share that directory, not the host's / (QEMU reads ",," as a
# comma, so every path inside an option string is quoted that way). Covers ROOTFS,
# --inject, --overlay, the kernel and initrd paths (a store and a TMPDIR with commas),
# and an --inject GUEST path the guest's shell must not evaluate. Every boot also runs
# with --no-snapshot.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
R="$T/r,path="; I="$T/i,path="; O="$T/o,path="; G="$T/g"
make_rootfs "$R"
echo rootfs-marker >"$R/qb-marker"
mkdir -p "$I" "$O" "$G"
echo inject-marker >"$I/inj-marker"
echo overlay-marker >"$O/ovl-marker"
echo guest-path-marker >"$G/m"
# The kernel store and TMPDIR (runtime sockets, the per-boot initrd) behind commas too.
ln -s "$QUICKBOOT_HOME" "$T/h,path=,readonly=on"
mkdir -p "$T/t,path="
hostile_run() {
  QUICKBOOT_HOME="$T/h,path=,readonly=on" TMPDIR="$T/t,path=" timeout 600 "$QUICKBOOT" -q run "$@"
}
script='cat /qb-marker; ls /mnt/inj; cat /ovl-marker; ls /mnt/q; cat /mnt/q/*/m; [ -e /mnt/inj/etc ] && echo HOST-ROOT-SHARED; true'
want='rootfs-marker
inj-marker
overlay-marker
x$(printf${IFS}y)
guest-path-marker'
for snap in "" --no-snapshot; do
  out=$(hostile_run $snap "$R/" --inject "$I/:/mnt/inj" --overlay "$O/" \
        --inject "$G:/mnt/q/x\$(printf\${IFS}y)" --timeout 300 -- sh -c "$script" 2>"$T/err") ||
    { cat "$T/err"; fail "hostile-name boot failed ($snap)"; }
  [ "$out" = "$want" ] || { cat "$T/err"; fail "guest saw the wrong shares ($snap): '$out'"; }
done

# A GUEST path the guest's share loop would split: refused on the host.
expect_fail 1 "GUEST may not contain blanks" -- qb run "$R" --inject "$G:/mnt/a b" -- true
expect_fail 1 "GUEST may not contain '..'" -- qb run "$R" --inject "$G:/mnt/../../x" -- true
echo PASS
