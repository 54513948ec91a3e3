#!/usr/bin/env bash
# Names that are not valid UTF-8 are skipped with a warning naming them (fs.json must
# be UTF-8 and v86 could not round-trip them); everything else is exported.
source "$(dirname "$0")/../common.inc"
V86=$QB_SOURCE_DIR/tests/v86
mkdir -p "$T/src/ok" "$T/src/bad-$(printf '\xff')-dir"
printf a > "$T/src/ok/été"
printf b > "$T/src/ok/latin1-$(printf '\xe9')"
printf c > "$T/src/bad-$(printf '\xff')-dir/inner"
ln -s "$(printf 'target-\xfe')" "$T/src/ok/badlink"
qb export "$T/src" --out "$T/o" 2>"$T/warn"
grep -qF 'warning: skipping ok/latin1-\xe9: the name is not valid UTF-8' "$T/warn" || { cat "$T/warn"; fail "no warning for the file"; }
grep -qF 'warning: skipping bad-\xff-dir: the name is not valid UTF-8' "$T/warn" || fail "no warning for the directory"
grep -qF 'warning: skipping ok/badlink: the symlink target is not valid UTF-8' "$T/warn" || fail "no warning for the symlink"
python3 "$V86/check_fs_json.py" "$T/src" "$T/o" --skip "ok/latin1-$(printf '\xe9')" --skip "bad-$(printf '\xff')-dir" --skip ok/badlink
grep -q 'u00e9' "$T/o/fs.json" || fail "été not exported"
echo "export_names: ok"
