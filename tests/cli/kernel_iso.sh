#!/usr/bin/env bash
# An archiso-layout ISO (xorriso) holding the real Debian bzImage as vmlinuz-linux; its
# modules are only in airootfs.sfs, so quickboot must ask for --modules.
source "$(dirname "$0")/../common.inc"
source "$QB_SOURCE_DIR/tests/fixtures/kernel-fixtures.inc"
command -v xorriso >/dev/null || { [ -n "${CI:-}" ] && fail "xorriso missing in CI"; skip "xorriso not installed"; }
deb=$(debian_deb amd64)
make_archiso "$deb" "$T/archlinux.iso"
x=$(deb_tree "$deb"); r=$(deb_release "$x")

expect_fail 1 "has no kernel modules outside arch/x86_64/airootfs.sfs" -- qb kernel add "$T/archlinux.iso"
grep -qF -- "hint: pass the kernel's modules with --modules" "$T/err" || fail "hint"
[ -z "$(ls -A "$QUICKBOOT_HOME/kernels")" ] || fail "failed add left something: $(ls -A "$QUICKBOOT_HOME/kernels")"

qb --json kernel add "$T/archlinux.iso" --modules "$x/lib/modules/$r" >"$T/add.json"
[ "$(jq -r .release "$T/add.json")" = "$r" ] || fail "release"
[ "$(jq -r .source_kind "$T/add.json")" = iso ] || fail "kind"
[ "$(jq -r .module_count "$T/add.json")" -gt 1000 ] || fail "module_count"
# The package works as a --modules source too, and it is the same kernel.
qb --json kernel add "$T/archlinux.iso" --modules "$deb" | jq -e .already_present >/dev/null || fail "same kernel"
echo ok
