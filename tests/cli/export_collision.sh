#!/usr/bin/env bash
# Two different contents whose SHA-256 share the first 8 hex digits (found by a
# birthday search): both exported, told apart by their full hash; the second one to
# claim the name gets all 64 hex digits; a warning says so; a re-run keeps the names (docs/export.md).
source "$(dirname "$0")/../common.inc"
V86=$QB_SOURCE_DIR/tests/v86
mkdir -p "$T/src"
python3 - "$T/src" <<'PY'
import hashlib, sys
seen = {}
i = 0
while True:
    data = b"quickboot collision %d\n" % i
    p = hashlib.sha256(data).hexdigest()[:8]
    if p in seen:
        open(sys.argv[1] + "/one", "wb").write(seen[p]); open(sys.argv[1] + "/two", "wb").write(data)
        break
    seen[p] = data
    i += 1
PY
qb export "$T/src" --out "$T/o" --json > "$T/d.json" 2>"$T/warn"
grep -q "warning: blob name collision" "$T/warn" || fail "no collision warning"
python3 "$V86/check_fs_json.py" "$T/src" "$T/o"
python3 - "$T/o/fs.json" "$T/d.json" <<'PY'
import json, sys
names = sorted(len(e[6].split(".")[0]) for e in json.load(open(sys.argv[1]))["fsroot"])
assert names == [8, 64], names
assert json.load(open(sys.argv[2]))["collisions"] == 1
PY
cp "$T/o/fs.json" "$T/first"
qb export "$T/src" --out "$T/o"
cmp "$T/first" "$T/o/fs.json" || fail "names changed on a re-run"
# Without the state, the blobs on disk are verified by content and keep their names.
rm "$T/o/.quickboot/state"
qb export "$T/src" --out "$T/o"
cmp "$T/first" "$T/o/fs.json" || fail "names changed on a re-run without state"
echo "export_collision: ok"
