#!/usr/bin/env bash
# export: bad input is one clear error, exit 1, and the previous output is untouched.
source "$(dirname "$0")/../common.inc"
V86=$QB_SOURCE_DIR/tests/v86
bash "$V86/make_tree.sh" "$T/src"
qb export "$T/src" --out "$T/o"
snap() { (cd "$1" && find . -printf '%p %s %T@ %m\n' | sort && cat fs.json | sha256sum); }
snap "$T/o" > "$T/before"

expect_fail 1 "SOURCE $T/missing does not exist" -- qb export "$T/missing" --out "$T/o"
head -c 3000 /dev/urandom > "$T/corrupt.tar"
expect_fail 1 "cannot read $T/corrupt.tar: Unrecognized archive format" -- qb export "$T/corrupt.tar" --out "$T/o"
tar -C "$T/src" -czf "$T/good.tar.gz" .
head -c 2000 "$T/good.tar.gz" > "$T/truncated.tar.gz"
expect_fail 1 "cannot read $T/truncated.tar.gz: truncated gzip input" -- qb export "$T/truncated.tar.gz" --out "$T/o"
# Cut in the middle of a member's data, after other members were stored: the blobs of
# this failed run are removed again.
tar -C "$T/src" -cf "$T/good.tar" .
head -c $(( $(stat -c %s "$T/good.tar") * 2 / 3 )) "$T/good.tar" > "$T/truncated.tar"
expect_fail 1 "corrupt archive $T/truncated.tar" -- qb export "$T/truncated.tar" --out "$T/o"
snap "$T/o" > "$T/after"
diff "$T/before" "$T/after" || fail "previous output changed"

# Output inside the source, with a previous output there.
mkdir -p "$T/src2"; cp -a "$T/src/etc" "$T/src2/"
qb export "$T/src" --out "$T/src2/site"
snap "$T/src2/site" > "$T/before2"
expect_fail 1 "the output directory $T/src2/site is inside the source $T/src2" -- qb export "$T/src2" --out "$T/src2/site"
snap "$T/src2/site" > "$T/after2"
diff "$T/before2" "$T/after2" || fail "previous output changed"

# Unwritable output: a path under a regular file...
touch "$T/file"
expect_fail 1 "cannot create the output directory $T/file/out" -- qb export "$T/src" --out "$T/file/out"
# ...and a previous output the user may not write (root ignores modes: run as nobody).
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
  chmod 755 "$T"; chmod -R a+rX "$T/src" "$T/o"
  expect_fail 1 "cannot" -- setpriv --reuid=65534 --regid=65534 --clear-groups "$QUICKBOOT" export "$T/src" --out "$T/o"
  snap "$T/o" > "$T/after3"
  diff "$T/before" "$T/after3" || fail "previous output changed"
fi
echo "export_bad_input: ok"
