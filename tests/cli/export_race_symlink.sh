#!/usr/bin/env bash
# Export TOCTOU (issue 15, item 4): a directory of SOURCE swapped for a symlink to a
# directory outside SOURCE, over and over, while exports run. Every file is opened
# beneath SOURCE with no symlink followed on the way, so no blob and no fs.json entry
# may ever come from outside, whatever the timing. Both readers (io_uring and pread)
# and both file sizes (one-shot and streamed) are raced.
source "$(dirname "$0")/../common.inc"
rounds=${QB_RACE_ROUNDS:-120}
mkdir -p "$T/src/d" "$T/outside"
for i in $(seq 40); do
  printf 'inside %s\n' "$i" > "$T/src/d/f$i"
  printf 'SECRET %s\n' "$i" > "$T/outside/f$i"
done
# Two large (streamed) files each side, and a name that only exists outside.
{ printf 'inside big\n'; head -c 600K /dev/zero | tr '\0' 'i'; } > "$T/src/d/big"
{ printf 'SECRET big\n'; head -c 600K /dev/zero | tr '\0' 'S'; } > "$T/outside/big"
printf 'SECRET only\n' > "$T/outside/secret-only"

# The swapper: d -> d.real, a symlink d -> outside, then back; as fast as it goes.
python3 - "$T/src" "$T/outside" "$T/stop" <<'PY' &
import os, sys
src, outside, stop = sys.argv[1:]
d, real = os.path.join(src, "d"), os.path.join(src, "d.real")
while not os.path.exists(stop):
    try:
        os.rename(d, real)
        os.symlink(outside, d)
        os.unlink(d)
        os.rename(real, d)
    except OSError:
        pass
PY
swapper=$!
trap 'touch "$T/stop"; wait $swapper 2>/dev/null || true; rm -rf "$T"' EXIT

for r in $(seq "$rounds"); do
  case $((r % 3)) in
    0) export QUICKBOOT_NO_IO_URING=1 ;;
    *) unset QUICKBOOT_NO_IO_URING ;;
  esac
  out=$T/o$((r % 4))
  # A fresh export every fourth round, incremental ones in between; a failed run
  # (the tree kept changing) is fine, a hang is not (timeout as a hang guard only).
  [[ $((r % 4)) -eq 0 ]] && rm -rf "$out"
  timeout 120 "$QUICKBOOT" export "$T/src" --out "$out" >/dev/null 2>"$T/err" || {
    rc=$?
    [[ $rc -eq 124 ]] && fail "round $r: export hung"
  }
  if grep -rlq SECRET "$out" 2>/dev/null; then
    grep -rl SECRET "$out" >&2
    fail "round $r: content from outside SOURCE was exported"
  fi
  if [[ -f $out/fs.json ]] && grep -q secret-only "$out/fs.json"; then
    fail "round $r: fs.json lists a name from outside SOURCE"
  fi
done
touch "$T/stop"
wait $swapper 2>/dev/null || true
# Settled: the tree exports in full.
qb export "$T/src" --out "$T/final" >/dev/null
python3 - "$T/final" <<'PY'
import json, os, sys
out = sys.argv[1]
root = {e[0]: e for e in json.load(open(os.path.join(out, "fs.json")))["fsroot"]}
d = {e[0]: e for e in root["d"][6]}
assert len(d) == 41, sorted(d)
assert open(os.path.join(out, d["f7"][6])).read() == "inside 7\n"
PY
echo "export_race_symlink: ok ($rounds rounds)"
