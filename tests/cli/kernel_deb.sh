#!/usr/bin/env bash
# The real Debian amd64 and 686 packages: add, add again, list, show, default, rm.
source "$(dirname "$0")/../common.inc"
source "$QB_SOURCE_DIR/tests/fixtures/kernel-fixtures.inc"
deb=$(debian_deb amd64)
deb686=$(debian_deb 686)

qb --json kernel add "$deb" >"$T/add.json"
r=$(jq -r .release "$T/add.json")
[ "$(jq -r .arch "$T/add.json")" = x86_64 ] || fail "arch: $(cat "$T/add.json")"
[ "$(jq -r .default "$T/add.json")" = true ] || fail "first kernel is not the default"
[ "$(jq -r .already_present "$T/add.json")" = false ] || fail "already_present on first add"
vmlinux=$(jq -r .vmlinux "$T/add.json")
[ -f "$vmlinux" ] || fail "amd64 vmlinux missing: $vmlinux"
head -c 4 "$vmlinux" | grep -q ELF || fail "vmlinux is not an ELF"
if command -v readelf >/dev/null; then grep -q Xen <<<"$(readelf -n "$vmlinux")" || fail "vmlinux lacks the Xen note"; fi

# Same files as dpkg -x, modules stored as shipped.
x=$(deb_tree "$deb")
[ "$r" = "$(deb_release "$x")" ] || fail "release $r"
mods=$(jq -r .modules "$T/add.json")
# ... plus the indexes depmod adds (the package ships none of them).
for f in modules.dep modules.dep.bin modules.alias modules.alias.bin modules.symbols modules.symbols.bin \
  modules.builtin.bin modules.builtin.alias.bin modules.softdep modules.devname; do
  [ -f "$mods/$f" ] || fail "the store's modules tree lacks the index $f"
done
diff -r $(for f in "$mods"/modules.*; do n=${f##*/}; [ -e "$x/lib/modules/$r/$n" ] || echo "-x $n"; done) \
  "$x/lib/modules/$r" "$mods" || fail "modules tree differs from dpkg -x"
cmp "$x/boot/vmlinuz-$r" "$(jq -r .bzimage "$T/add.json")" || fail "bzImage differs"
cmp "$x/boot/config-$r" "$(jq -r .config "$T/add.json")" || fail "config differs"
want=$(find "$x/lib/modules/$r" -name '*.ko' | wc -l)
[ "$(jq -r .module_count "$T/add.json")" -eq "$want" ] || fail "module_count != $want"
[ "$(jq -r .source "$T/add.json")" = "$deb" ] || fail "source"

# Twice: reported, not an error, nothing new.
qb kernel add "$deb" 2>"$T/err" >/dev/null
grep -q "already in the store" "$T/err" || fail "second add not reported as present"
[ "$(qb --json kernel list | jq length)" -eq 1 ] || fail "list after second add"

# i686: no PVH note in Debian's 686 kernel, so no vmlinux.
qb --json kernel add "$deb686" >"$T/add686.json"
[ "$(jq -r .arch "$T/add686.json")" = i686 ] || fail "686 arch"
[ "$(jq -r .vmlinux "$T/add686.json")" = null ] || fail "686 vmlinux should be null"
[ "$(jq -r .default "$T/add686.json")" = false ] || fail "second kernel became default"
[ "$(jq -r .module_count "$T/add686.json")" -gt 1000 ] || fail "686 module count"
r686=$(jq -r .release "$T/add686.json")

[ "$(qb --json kernel list | jq length)" -eq 2 ] || fail "list"
[ "$(qb --json kernel show "$r686" | jq -r .arch)" = i686 ] || fail "show by release"
qb kernel default "$r686" 2>/dev/null
[ "$(qb --json kernel show "$r686" | jq -r .default)" = true ] || fail "kernel default"
grep -q "^\* $r686" <<<"$(qb kernel list)" || fail "list marks the default"
qb kernel rm "$r686" 2>/dev/null
[ "$(qb --json kernel list | jq length)" -eq 1 ] || fail "rm"
expect_fail 1 "no kernel '$r686'" -- qb kernel show "$r686"
echo ok
