#!/usr/bin/env bash
# Files changing while they are read: detected (stat before/after, length read),
# read once more, and if they still change, exported as last read with a warning;
# fs.json's size always equals the blob's length.
source "$(dirname "$0")/../common.inc"
mkdir -p "$T/src"
head -c 64M /dev/zero > "$T/src/log"
for i in $(seq 100); do printf 'stable %s\n' "$i" > "$T/src/f$i"; done
( while :; do printf 'more\n' >> "$T/src/log"; done ) & writer=$!
trap 'kill $writer 2>/dev/null || true; rm -rf "$T"' EXIT
qb export "$T/src" --out "$T/o" 2>"$T/warn"
kill $writer; wait $writer 2>/dev/null || true
grep -qF "warning: log kept changing while it was read; exported as last read" "$T/warn" || { cat "$T/warn"; fail "change not reported"; }
python3 - "$T/o" <<'PY'
import json, os, sys
for e in json.load(open(os.path.join(sys.argv[1], "fs.json")))["fsroot"]:
    assert os.path.getsize(os.path.join(sys.argv[1], e[6])) == e[1], e
PY
# The next run reads it again even though its stat data may now be stable.
qb export "$T/src" --out "$T/o" --json > "$T/d.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["files_hashed"]==1, d' "$T/d.json"
echo "export_changing: ok"
