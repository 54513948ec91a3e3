#!/usr/bin/env bash
# An Arch-layout linux.pkg.tar.zst built from the real Debian kernel: usr/lib/modules/R/vmlinuz
# beside the modules, which are .ko.zst and must stay so.
source "$(dirname "$0")/../common.inc"
source "$QB_SOURCE_DIR/tests/fixtures/kernel-fixtures.inc"
deb=$(debian_deb amd64)
make_arch_pkg "$deb" "$T/linux-test-x86_64.pkg.tar.zst"
cp "$T/linux-test-x86_64.pkg.tar.zst" "$T/renamed.bin"   # detection is by content

qb --json kernel add "$T/renamed.bin" --name arch >"$T/add.json"
mods=$(jq -r .modules "$T/add.json")
x=$(deb_tree "$deb")
want=$(find "$x/lib/modules" -name '*.ko' | wc -l)
[ "$(jq -r .module_count "$T/add.json")" -eq "$want" ] || fail "module_count"
[ "$(find "$mods" -name '*.ko.zst' | wc -l)" -eq "$want" ] || fail "modules not stored as .ko.zst"
[ ! -e "$mods/vmlinuz" ] || fail "vmlinuz copied into modules/"
[ -f "$mods/pkgbase" ] || fail "pkgbase missing"
[ "$(jq -r .vmlinux "$T/add.json")" != null ] || fail "vmlinux"
[ "$(jq -r .source_kind "$T/add.json")" = package ] || fail "kind"
[ "$(qb --json kernel show arch | jq -r .id)" = "$(jq -r .id "$T/add.json")" ] || fail "show by --name"
echo ok
