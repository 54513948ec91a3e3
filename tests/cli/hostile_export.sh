#!/usr/bin/env bash
# Hostile trees and output directories for `quickboot export` (issue 15, items 6, 7, 12):
# FIFOs where files are expected (no hang: opened non-blocking, type-checked), a file
# growing while read (exported as last read, no EAGAIN), files of the user's named
# like temp files (kept), fs.json failing with ENOSPC (no orphan blobs), directories
# without search permission under --skip-unreadable. Timeouts are hang guards only.
source "$(dirname "$0")/../common.inc"
guard() { timeout "${QB_HANG_GUARD:-120}" "$QUICKBOOT" "$@"; }
hung() { [[ $1 -eq 124 ]] && fail "$2: export hung"; return 0; }

mkdir -p "$T/src/etc"
printf 'box\n' > "$T/src/etc/hostname"
for i in $(seq 20); do printf 'file %s\n' "$i" > "$T/src/f$i"; done

# 1. The state file is a FIFO: ignored with a warning, a full export.
qb export "$T/src" --out "$T/o1" >/dev/null
rm "$T/o1/.quickboot/state"; mkfifo "$T/o1/.quickboot/state"
rc=0; guard export "$T/src" --out "$T/o1" >/dev/null 2>"$T/err" || rc=$?
hung $rc "FIFO state"; [[ $rc -eq 0 ]] || { cat "$T/err"; fail "FIFO state: rc $rc"; }
grep -q "state is not a regular file; exporting everything again" "$T/err" || { cat "$T/err"; fail "FIFO state: no warning"; }

# 2. fs.json is a FIFO: replaced by the real one.
rm "$T/o1/fs.json"; mkfifo "$T/o1/fs.json"
rc=0; guard export "$T/src" --out "$T/o1" >/dev/null 2>"$T/err" || rc=$?
hung $rc "FIFO fs.json"; [[ $rc -eq 0 ]] || { cat "$T/err"; fail "FIFO fs.json: rc $rc"; }
[[ -f $T/o1/fs.json && ! -p $T/o1/fs.json ]] || fail "FIFO fs.json not replaced"

# 3. A blob's name is a FIFO (no state: DIR's names are verified before reuse).
mkdir -p "$T/o3"; mkfifo "$T/o3/e3b0c442.bin" "$T/o3/$(printf 'file 3\n' | sha256sum | cut -c1-8).bin"
rc=0; guard export "$T/src" --out "$T/o3" >/dev/null 2>"$T/err" || rc=$?
hung $rc "FIFO blob"; [[ $rc -eq 0 ]] || { cat "$T/err"; fail "FIFO blob: rc $rc"; }
python3 "$QB_SOURCE_DIR/tests/v86/check_fs_json.py" "$T/src" "$T/o3"
[[ -z $(find "$T/o3" -maxdepth 1 -type p) ]] || fail "a FIFO blob is still named by fs.json"

# 4. A source file swapped for a FIFO (and back) while exports run: none hangs, and
# fs.json always agrees with the blobs.
python3 - "$T/src" "$T/stop4" <<'PY' &
import os, sys
src, stop = sys.argv[1:]
f, keep = os.path.join(src, "f5"), os.path.join(src, ".f5")
while not os.path.exists(stop):
    try:
        os.rename(f, keep); os.mkfifo(f); os.unlink(f); os.rename(keep, f)
    except OSError:
        pass
PY
swapper=$!
trap 'touch "$T/stop4" "$T/stop5"; wait; rm -rf "$T"' EXIT
for r in $(seq 40); do
  [[ $((r % 2)) -eq 0 ]] && export QUICKBOOT_NO_IO_URING=1 || unset QUICKBOOT_NO_IO_URING
  rc=0; guard export "$T/src" --out "$T/o4" --exclude .f5 >/dev/null 2>"$T/err" || rc=$?
  hung $rc "FIFO swap round $r"
  [[ $rc -eq 0 ]] || { cat "$T/err"; fail "FIFO swap round $r: rc $rc"; }
done
unset QUICKBOOT_NO_IO_URING
touch "$T/stop4"; wait $swapper || true
python3 - "$T/o4" <<'PY'
import json, os, sys
out = sys.argv[1]
for e in json.load(open(os.path.join(out, "fs.json")))["fsroot"]:
    if len(e) > 6 and isinstance(e[6], str) and e[6].endswith(".bin"):
        assert os.path.getsize(os.path.join(out, e[6])) == e[1], e
PY

# 5. A small file that grows all the time: exported as last read (docs/export.md),
# never an EAGAIN / permissions error.
: > "$T/src/grow"
python3 - "$T/src/grow" "$T/stop5" <<'PY' &
import os, sys
path, stop = sys.argv[1:]
with open(path, "a") as f:
    while not os.path.exists(stop):
        f.write("more\n"); f.flush()
        if f.tell() > 200_000:
            f.truncate(0); f.seek(0)
PY
grower=$!
for r in $(seq 10); do
  [[ $((r % 2)) -eq 0 ]] && export QUICKBOOT_NO_IO_URING=1 || unset QUICKBOOT_NO_IO_URING
  rc=0; guard export "$T/src" --out "$T/o5" --exclude .f5 >/dev/null 2>"$T/err" || rc=$?
  hung $rc "growing file round $r"
  [[ $rc -eq 0 ]] || { cat "$T/err"; fail "growing file round $r: rc $rc"; }
  ! grep -q "temporarily unavailable\|permissions" "$T/err" || { cat "$T/err"; fail "growing file: fake error"; }
  python3 - "$T/o5" <<'PY'
import json, os, sys
out = sys.argv[1]
for e in json.load(open(os.path.join(out, "fs.json")))["fsroot"]:
    if e[0] == "grow":
        assert os.path.getsize(os.path.join(out, e[6])) == e[1], e
        break
else:
    raise SystemExit("grow missing from fs.json")
PY
done
unset QUICKBOOT_NO_IO_URING
touch "$T/stop5"; wait $grower || true
rm -f "$T/src/grow"

# 6. Only quickboot's own temp names are removed from DIR.
printf 'mine\n' > "$T/o1/notes.tmp.txt"
printf 'mine\n' > "$T/o1/fs.json.tmp.mine"
printf 'mine\n' > "$T/o1/e3b0c442.bin.tmp.mine"
printf 'x\n' > "$T/o1/fs.json.tmp.Ab12Cd"
printf 'x\n' > "$T/o1/.blob.tmp.123.4"
printf 'x\n' > "$T/o1/e3b0c442.bin.tmp.123.4"
touch "$T/src/f1"   # so the run lists DIR
qb export "$T/src" --out "$T/o1" >/dev/null
for f in notes.tmp.txt fs.json.tmp.mine e3b0c442.bin.tmp.mine; do
  [[ -f $T/o1/$f ]] || fail "the user's $f was deleted"
done
for f in fs.json.tmp.Ab12Cd .blob.tmp.123.4 e3b0c442.bin.tmp.123.4; do
  [[ ! -e $T/o1/$f ]] || fail "quickboot's leftover $f was kept"
done

# 7. ENOSPC writing fs.json: the export fails and leaves no blob behind.
if [[ $(id -u) -eq 0 ]] && mkdir -p "$T/mnt" && mount -t tmpfs -o size=$((4096 * 150)) tmpfs "$T/mnt" 2>/dev/null; then
  trap 'touch "$T/stop4" "$T/stop5"; wait; umount "$T/mnt" 2>/dev/null || true; rm -rf "$T"' EXIT
  mkdir -p "$T/big/with-a-rather-long-directory-name-to-make-fs.json-larger"
  # 145 distinct one-page files: their blobs fit, fs.json (long names: about 10
  # pages) does not.
  long=$(printf 'n%.0s' $(seq 200))
  for i in $(seq 145); do
    python3 -c "import sys; sys.stdout.write(('%d ' % $i) * 800)" | head -c 4096 \
      > "$T/big/with-a-rather-long-directory-name-to-make-fs.json-larger/$long-$i"
  done
  rc=0; "$QUICKBOOT" export "$T/big" --out "$T/mnt/o" >/dev/null 2>"$T/err" || rc=$?
  [[ $rc -ne 0 ]] || fail "ENOSPC: the export succeeded (the test's sizes need adjusting)"
  grep -q "fs.json.*No space left" "$T/err" || { cat "$T/err"; fail "ENOSPC: not the error expected"; }
  left=$(find "$T/mnt/o" -maxdepth 1 -name "*.bin" | wc -l)
  [[ $left -eq 0 ]] || fail "ENOSPC: $left orphan blobs left in DIR"
  umount "$T/mnt"
else
  echo "note: ENOSPC case skipped (needs root to mount a small tmpfs)"
fi

# 8. --skip-unreadable also covers a directory that can be listed but not searched.
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null; then
  chmod 755 "$T"
  mkdir -p "$T/s8/pub" "$T/s8/nosearch" "$T/o8"
  printf ok > "$T/s8/pub/a"; printf x > "$T/s8/nosearch/x"
  chmod 744 "$T/s8/nosearch"   # r but no x for others
  chown 65534:65534 "$T/o8"
  nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$QUICKBOOT" "$@"; }
  expect_fail 1 "cannot read" -- nobody export "$T/s8" --out "$T/o8"
  grep -q "nosearch" "$T/err" || { cat "$T/err"; fail "the unsearchable directory is not named"; }
  nobody export "$T/s8" --out "$T/o8" --skip-unreadable >/dev/null 2>"$T/warn" || { cat "$T/warn"; fail "--skip-unreadable failed on a directory without search permission"; }
  grep -q "skipping unreadable nosearch" "$T/warn" || { cat "$T/warn"; fail "no warning for nosearch"; }
  python3 "$QB_SOURCE_DIR/tests/v86/check_fs_json.py" "$T/s8" "$T/o8" --skip nosearch
else
  echo "note: search-permission case skipped (needs root and setpriv)"
fi
echo "hostile_export: ok"
