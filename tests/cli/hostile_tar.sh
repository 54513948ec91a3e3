#!/usr/bin/env bash
# Hostile tar archives as `quickboot export` sources (issue 15, items 8, 9, 12): deep
# nesting (no stack overflow, no quadratic memory), a small archive of many deep
# members (bounded, clear error), a 10 GB sparse member (holes kept: the blob takes
# no disk), hard links that are skipped (no typeless entries) or name ".." targets.
source "$(dirname "$0")/../common.inc"
command -v python3 >/dev/null || skip "python3 missing"
rss_kb() { awk '/Maximum resident/ {print $6}' "$1"; }

# 1. One member nested 30,000 levels (a 60 KB pax path, a 110 KB tar): skipped with
# a warning (longer than PATH_MAX), no crash; one 2,000 levels deep is exported.
python3 - "$T/deep.tar" "$T/ok-deep.tar" <<'PY'
import io, sys, tarfile
def one(path, name, content=b"deep\n"):
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo(name); ti.size = len(content)
        t.addfile(ti, io.BytesIO(content))
        ti = tarfile.TarInfo("top"); ti.size = 3
        t.addfile(ti, io.BytesIO(b"top"))
one(sys.argv[1], "a/" * 30000 + "f")
one(sys.argv[2], "a/" * 2000 + "f")
PY
rc=0; timeout 300 "$QUICKBOOT" export "$T/deep.tar" --out "$T/o1" >/dev/null 2>"$T/err" || rc=$?
[[ $rc -eq 0 ]] || { cat "$T/err"; fail "30k-deep tar: rc $rc"; }
grep -q "its path is longer than 4095 bytes" "$T/err" || { cat "$T/err"; fail "30k-deep tar: no warning"; }
python3 - "$T/o1" <<'PY'
import json, os, sys
fs = json.load(open(os.path.join(sys.argv[1], "fs.json")))["fsroot"]
assert [e[0] for e in fs] == ["top"], [e[0] for e in fs]
PY
qb export "$T/ok-deep.tar" --out "$T/o1b" >/dev/null 2>"$T/err" || { cat "$T/err"; fail "2000-deep tar failed"; }
python3 - "$T/o1b" <<'PY'
import json, os, sys
sys.setrecursionlimit(50000)
e = json.load(open(os.path.join(sys.argv[1], "fs.json")))["fsroot"]
depth = 0
while True:
    d = {x[0]: x for x in e}
    if "a" not in d: break
    e, depth = d["a"][6], depth + 1
assert depth == 2000 and e[0][0] == "f", depth
PY

# 2. Many deep members in a small gzip archive: bounded memory and a clear error.
python3 - "$T/many.tar.gz" <<'PY'
import gzip, io, sys, tarfile
b = io.BytesIO()
with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
    for i in range(1500):
        ti = tarfile.TarInfo("d%d/" % i + "a/" * 2000 + "f"); ti.size = 0
        t.addfile(ti)
open(sys.argv[1], "wb").write(gzip.compress(b.getvalue(), 9))
PY
echo "many.tar.gz: $(stat -c %s "$T/many.tar.gz") bytes"
rc=0; /usr/bin/time -v timeout 300 "$QUICKBOOT" export "$T/many.tar.gz" --out "$T/o2" >/dev/null 2>"$T/err" || rc=$?
[[ $rc -eq 1 ]] || { cat "$T/err"; fail "many deep members: rc $rc"; }
grep -q "member paths add up to more than 256 MiB" "$T/err" || { cat "$T/err"; fail "many deep members: not the error expected"; }
rss=$(rss_kb "$T/err")
echo "many deep members: max RSS ${rss} KB"
[[ $rss -lt 1500000 ]] || fail "many deep members took ${rss} KB"

# 3. A 10 GB sparse member in a tiny archive: the blob keeps its holes.
if command -v tar >/dev/null && truncate -s 10G "$T/sparse" 2>/dev/null; then
  printf 'head' | dd of="$T/sparse" conv=notrunc status=none
  printf 'tail' | dd of="$T/sparse" bs=1 seek=$((10 * 1024 * 1024 * 1024 - 4)) conv=notrunc status=none
  tar --sparse -C "$T" -cf "$T/sparse.tar" sparse
  rm "$T/sparse"
  echo "sparse.tar: $(stat -c %s "$T/sparse.tar") bytes"
  qb export "$T/sparse.tar" --out "$T/o3" >/dev/null 2>"$T/err" || { cat "$T/err"; fail "sparse tar failed"; }
  blob=$(python3 -c 'import json,sys; print([e for e in json.load(open(sys.argv[1]))["fsroot"] if e[0]=="sparse"][0][6])' "$T/o3/fs.json")
  [[ $(stat -c %s "$T/o3/$blob") -eq $((10 * 1024 * 1024 * 1024)) ]] || fail "sparse blob has the wrong size"
  used=$(du -k "$T/o3/$blob" | cut -f1)
  echo "sparse blob: $used KB on disk"
  [[ $used -lt 10240 ]] || fail "the 10 GB sparse member took $used KB of disk"
  [[ $(head -c 4 "$T/o3/$blob") == head && $(tail -c 4 "$T/o3/$blob") == tail ]] || fail "sparse blob content"
  rm -rf "$T/o3"
fi

# 4. Hard links: a missing target, a ".." target (its prefix a file), a link to a
# directory: all left out, none as a typeless entry; a good link shares the blob.
python3 - "$T/links.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as t:
    for name, data in (("f", b"F\n"), ("g", b"G\n")):
        ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
    ti = tarfile.TarInfo("dir"); ti.type = tarfile.DIRTYPE; t.addfile(ti)
    for name, target in (("missing", "nothere"), ("dotdot", "f/../g"), ("todir", "dir"), ("good", "./g")):
        ti = tarfile.TarInfo(name); ti.type = tarfile.LNKTYPE; ti.linkname = target; t.addfile(ti)
PY
qb export "$T/links.tar" --out "$T/o4" >/dev/null 2>"$T/err" || { cat "$T/err"; fail "links tar failed"; }
for n in missing dotdot todir; do grep -q "skipping hard link $n" "$T/err" || { cat "$T/err"; fail "no warning for $n"; }; done
python3 - "$T/o4" <<'PY'
import json, os, sys
out = sys.argv[1]
fs = {e[0]: e for e in json.load(open(os.path.join(out, "fs.json")))["fsroot"]}
assert sorted(fs) == ["dir", "f", "g", "good"], sorted(fs)
for e in fs.values():
    assert e[3] & 0o170000, ("typeless entry", e)
assert fs["good"][6] == fs["g"][6] and open(os.path.join(out, fs["good"][6])).read() == "G\n"
PY
echo "hostile_tar: ok"
