#!/usr/bin/env bash
# The host tree is protected: the guest's rm -rf /* leaves it byte-identical; --writable
# writes through (and says so).
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
make_rootfs "$T/root"
echo keep > "$T/root/etc/precious"
before=$(manifest "$T/root")
qb -q run "$T/root" --timeout 120 -- sh -c 'rm -rf /* 2>/dev/null; ls /etc/precious 2>&1; true' >"$T/o" 2>&1 || true
grep -q "No such file" "$T/o" || { cat "$T/o"; fail "the guest did not see its own deletion"; }
[ "$before" = "$(manifest "$T/root")" ] || fail "the host tree changed under the overlay"

qb run "$T/root" --writable --timeout 120 -- sh -c 'echo written > /etc/from-guest' 2>"$T/e"
[ "$(cat "$T/root/etc/from-guest")" = "written" ] || fail "--writable did not write through"
grep -q "writable" "$T/e" || { cat "$T/e"; fail "--writable was not announced"; }
echo PASS
