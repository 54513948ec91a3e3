#!/usr/bin/env bash
# Bad input: each a clear error, exit 1, and nothing left in the store.
source "$(dirname "$0")/../common.inc"
source "$QB_SOURCE_DIR/tests/fixtures/kernel-fixtures.inc"
deb=$(debian_deb amd64)
x=$(deb_tree "$deb"); r=$(deb_release "$x")
empty_store() {
  local left; left=$(ls -A "$QUICKBOOT_HOME/kernels" 2>/dev/null || true)
  [ -z "$left" ] || fail "store not empty after a failed add: $left"
}

echo "just text" >"$T/notes.txt"
expect_fail 1 "$T/notes.txt is not a kernel" -- qb kernel add "$T/notes.txt"; empty_store

head -c 3000000 "$x/boot/vmlinuz-$r" >"$T/vmlinuz-cut"
expect_fail 1 "$T/vmlinuz-cut is truncated" -- qb kernel add "$T/vmlinuz-cut" --modules none; empty_store

head -c 30000000 "$deb" >"$T/cut.deb"
expect_fail 1 "cannot read $T/cut.deb" -- qb kernel add "$T/cut.deb"
grep -qF "hint: the file is corrupt or truncated" "$T/err" || fail "hint"; empty_store

cp "$deb" "$T/corrupt.deb"
printf 'garbage%.0s' $(seq 1 2000) | dd of="$T/corrupt.deb" bs=1 seek=20000000 conv=notrunc status=none
expect_fail 1 "$T/corrupt.deb" -- qb kernel add "$T/corrupt.deb"; empty_store

mkdir -p "$T/nokernel/DEBIAN" "$T/nokernel/usr/share/doc/x"
printf 'Package: nokernel\nVersion: 1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: t\n' >"$T/nokernel/DEBIAN/control"
echo hi >"$T/nokernel/usr/share/doc/x/README"
dpkg-deb -b -Zxz "$T/nokernel" "$T/nokernel.deb" >/dev/null
expect_fail 1 "no kernel image in $T/nokernel.deb" -- qb kernel add "$T/nokernel.deb"; empty_store

mkdir -p "$T/mods"
cp -a "$x/lib/modules/$r" "$T/mods/9.9.9-other"
expect_fail 1 "the modules in $T/mods/9.9.9-other are for 9.9.9-other, but the kernel is $r" -- \
  qb kernel add "$x/boot/vmlinuz-$r" --modules "$T/mods/9.9.9-other"; empty_store

expect_fail 1 "kernel source $T/nope.deb does not exist" -- qb kernel add "$T/nope.deb"; empty_store

touch "$T/a-file"
QUICKBOOT_HOME="$T/a-file/home" expect_fail 1 "cannot write to the kernel store $T/a-file/home/kernels" -- \
  qb kernel add "$deb"
grep -qF "hint: set QUICKBOOT_HOME" "$T/err" || fail "store hint"

expect_fail 2 "" -- qb kernel add
echo ok
