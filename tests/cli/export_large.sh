#!/usr/bin/env bash
# A sparse file over 4 GiB (data past the 4 GiB mark) and a sparse file with holes:
# sizes as 64-bit numbers, content hashed right, blobs kept sparse on disk.
source "$(dirname "$0")/../common.inc"
mkdir -p "$T/src"
truncate -s $((4 * 1024 * 1024 * 1024 + 1024 * 1024)) "$T/src/huge"
printf 'past the 4 GiB mark' | dd of="$T/src/huge" bs=1 seek=$((4 * 1024 * 1024 * 1024 + 4096)) conv=notrunc status=none
truncate -s 10M "$T/src/holes"
printf 'middle' | dd of="$T/src/holes" bs=1 seek=5000000 conv=notrunc status=none
qb export "$T/src" --out "$T/o"
python3 - "$T/src" "$T/o" <<'PY'
import hashlib, json, os, sys
src, out = sys.argv[1:]
fs = {e[0]: e for e in json.load(open(os.path.join(out, "fs.json")))["fsroot"]}
for name in ("huge", "holes"):
    e = fs[name]
    size = os.path.getsize(os.path.join(src, name))
    assert e[1] == size, (name, e[1], size)
    h = hashlib.sha256()
    with open(os.path.join(src, name), "rb") as f:
        while chunk := f.read(1 << 24): h.update(chunk)
    assert e[6] == h.hexdigest()[:8] + ".bin", (name, e[6], h.hexdigest())
    blob = os.path.join(out, e[6])
    assert os.path.getsize(blob) == size, (name, "blob length")
    assert os.stat(blob).st_blocks * 512 < 64 << 20, (name, "blob not sparse")
with open(os.path.join(out, fs["huge"][6]), "rb") as f:
    f.seek(4 * 1024**3 + 4096); assert f.read(19) == b"past the 4 GiB mark"
PY
echo "export_large: ok"

# A large file touched (same content): hashed again, nothing written; then the same
# size with new content: the hash-first pass finds no blob and the file is streamed.
mkdir -p "$T/s2"
head -c 3000000 /dev/urandom >"$T/s2/big"
qb export "$T/s2" --out "$T/o2"
touch -d '+1 hour' "$T/s2/big"
qb --json export "$T/s2" --out "$T/o2" >"$T/d1.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["files_hashed"] == 1 and d["blobs_added"] == [], d' "$T/d1.json"
head -c 3000000 /dev/urandom >"$T/s2/big"
qb --json export "$T/s2" --out "$T/o2" >"$T/d2.json"
python3 - "$T/s2" "$T/o2" "$T/d2.json" <<'PY'
import hashlib, json, os, sys
src, out, dj = sys.argv[1:]
d = json.load(open(dj))
h = hashlib.sha256(open(os.path.join(src, "big"), "rb").read()).hexdigest()
assert d["blobs_added"] == [h[:8] + ".bin"], (d["blobs_added"], h)
assert open(os.path.join(out, h[:8] + ".bin"), "rb").read() == open(os.path.join(src, "big"), "rb").read()
PY
echo "export_large: touched and same-size rewrite ok"
