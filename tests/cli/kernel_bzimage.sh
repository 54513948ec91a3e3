#!/usr/bin/env bash
# A bare bzImage: --modules is needed (a tree, a package, or none).
source "$(dirname "$0")/../common.inc"
source "$QB_SOURCE_DIR/tests/fixtures/kernel-fixtures.inc"
deb=$(debian_deb amd64)
x=$(deb_tree "$deb"); r=$(deb_release "$x")
cp "$x/boot/vmlinuz-$r" "$T/bzImage"

expect_fail 1 "no kernel modules for $r in $T/bzImage" -- qb kernel add "$T/bzImage"
grep -qF -- "--modules none" "$T/err" || fail "hint"
qb --json kernel add "$T/bzImage" --modules "$x/lib/modules/$r" >"$T/add.json"
[ "$(jq -r .source_kind "$T/add.json")" = bzimage ] || fail "kind"
[ "$(jq -r .vmlinux "$T/add.json")" != null ] || fail "vmlinux"
[ "$(jq -r .module_count "$T/add.json")" -gt 1000 ] || fail "module_count"
# modules from the real package: the same kernel.
qb --json kernel add "$T/bzImage" --modules "$deb" | jq -e .already_present >/dev/null || fail "same kernel"
# modules from a rootfs-style directory (lib/modules/R inside)
qb kernel rm "$r" 2>/dev/null
qb --json kernel add "$T/bzImage" --modules "$x" | jq -e '.module_count > 1000' >/dev/null || fail "rootfs modules"
echo ok
