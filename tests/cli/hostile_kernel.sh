#!/usr/bin/env bash
# Hostile kernels and store requests (issue 15, items 6, 8, 11): `kernel rm ""` removes
# nothing; a bzImage whose version string is ".." or points into binary data is a clean
# error (no crash, no hidden store entry, no "internal error" from JSON); --release is
# checked the same way; a FIFO given to `kernel add` is an error, not a hang (timeout
# is only a hang guard; the --add FIFO case is in hostile_image_modes.sh).
source "$(dirname "$0")/../common.inc"
K="$QUICKBOOT_HOME/kernels"

# 1. kernel rm "" with one (hand-made) entry without a --name.
mkdir -p "$K/6.1.0-test-0123456789ab/modules"
cat >"$K/6.1.0-test-0123456789ab/meta.json" <<'JSON'
{"id": "6.1.0-test-0123456789ab", "release": "6.1.0-test", "arch": "x86_64", "bzimage": "bzImage",
 "vmlinux": null, "config": null, "modules": "modules", "module_count": 0, "source": "/x", "name": "", "added": ""}
JSON
expect_fail 1 "an empty kernel id matches nothing" -- qb kernel rm ""
[ "$(qb --json kernel list | jq length)" -eq 1 ] || fail "kernel rm \"\" removed an entry"
expect_fail 1 "an empty kernel id matches nothing" -- qb kernel show ""

# 2. A FIFO as the source of kernel add.
mkfifo "$T/fifo"
rc=0; timeout 60 "$QUICKBOOT" kernel add "$T/fifo" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || { cat "$T/err"; fail "kernel add of a FIFO: exit $rc (124 = hung)"; }
grep -qF "$T/fifo is a FIFO" "$T/err" || { cat "$T/err"; fail "no clear FIFO error"; }

# 3. Version strings: "..", binary data, and --release "..".
deb=$(debian_deb amd64) || skip "no Debian kernel package"
mkdir -p "$T/x"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$T/x" --wildcards './boot/vmlinuz-*'
img=$(ls "$T"/x/boot/vmlinuz-*)
# The version string's offset: the u16 at 0x20e, plus 0x200.
off=$(( $(od -An -tu2 -j $((0x20e)) -N2 "$img") + 0x200 ))
cp "$img" "$T/dotdot"; printf '..\0' | dd of="$T/dotdot" bs=1 seek="$off" conv=notrunc status=none
# What a pointer into compressed data finds: bytes that are neither ASCII nor UTF-8.
cp "$img" "$T/binary"; printf '\xff\xfe\x80\xc3(6.1\x01 x\0' | dd of="$T/binary" bs=1 seek="$off" conv=notrunc status=none
for f in dotdot binary; do
  rc=0; timeout 300 "$QUICKBOOT" --json kernel add "$T/$f" --modules none >"$T/out" 2>"$T/err" || rc=$?
  [ "$rc" -eq 1 ] || { cat "$T/err"; fail "$f: exit $rc"; }
  grep -qF "has no usable kernel version string" "$T/err" || { cat "$T/err"; fail "$f: unclear error"; }
  grep -q "internal error" "$T/err" && fail "$f: internal error"
  jq -e .error "$T/out" >/dev/null || fail "$f: --json printed no error object"
done
expect_fail 1 "--release '..' is not usable as a kernel release" -- qb kernel add "$T/dotdot" --modules none --release ..
expect_fail 1 "is not usable as a kernel release" -- qb kernel add "$T/dotdot" --modules none --release "a/b"
[ -z "$(ls -A "$K" | grep -v '^6.1.0-test-0123456789ab$' | grep -v '^\.add-' || true)" ] ||
  fail "store entries left: $(ls -A "$K")"
[ "$(qb --json kernel list | jq length)" -eq 1 ] || fail "list changed"
# The same image named by a good --release is accepted.
qb -q kernel add "$T/dotdot" --modules none --release 6.1.0-renamed >/dev/null || fail "--release did not rescue it"
qb --json kernel list | jq -e 'map(.release) | index("6.1.0-renamed")' >/dev/null || fail "renamed entry not listed"
echo PASS
