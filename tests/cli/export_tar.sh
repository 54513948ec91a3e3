#!/usr/bin/env bash
# export from tar archives: plain, gz, xz, zst; "./" and "/" prefixes normalised; the
# result equals the directory export (directory sizes aside: tar stores 0).
source "$(dirname "$0")/../common.inc"
V86=$QB_SOURCE_DIR/tests/v86
bash "$V86/make_tree.sh" "$T/src"
rm -f "$T/src/dev/sock"   # tar cannot store sockets
qb export "$T/src" --out "$T/dir"
tar -C "$T/src" -cf "$T/dot.tar" .
tar -C "$T/src" -czf "$T/dot.tar.gz" .
tar -C "$T/src" -cJf "$T/dot.tar.xz" .
tar -C "$T/src" --zstd -cf "$T/dot.tar.zst" .
(cd "$T/src" && tar --no-unquote -cf "$T/plain.tar" -- *)
tar -C / -Pcf "$T/abs.tar" "${T#/}/src"   # members start with the path; strip below
normalise() {  # fs.json with directory sizes zeroed (tar has none) and size dropped
  python3 - "$1" <<'PY'
import json, sys
def z(es):
    for e in es:
        if len(e) == 7 and isinstance(e[6], list):
            e[1] = 0; z(e[6])
d = json.load(open(sys.argv[1])); z(d["fsroot"]); d["size"] = 0
print(json.dumps(d, sort_keys=True))
PY
}
normalise "$T/dir/fs.json" > "$T/want"
for t in dot.tar dot.tar.gz dot.tar.xz dot.tar.zst plain.tar; do
  qb export "$T/$t" --out "$T/o-$t"
  normalise "$T/o-$t/fs.json" > "$T/got"
  diff "$T/want" "$T/got" || fail "$t: export differs from the directory export"
  ! grep -q '\["\.",' "$T/o-$t/fs.json" || fail "$t: a top-level '.' entry"
  for b in $(ls "$T/dir" | grep '\.bin$'); do cmp "$T/dir/$b" "$T/o-$t/$b"; done
done
# Absolute member names: "/" stripped, the tree sits under its full path.
qb export "$T/abs.tar" --out "$T/o-abs"
python3 - "$T/o-abs/fs.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["fsroot"][0][0] != "" and d["fsroot"][0][0] != "/", d["fsroot"][0][0]
PY
echo "export_tar: ok"
