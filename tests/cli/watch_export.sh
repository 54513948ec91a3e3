#!/usr/bin/env bash
# `quickboot watch --no-guest --export`: 5,000 files changed at once are coalesced into
# few cycles (one on a quiet machine), and the export ends equal to a fresh full export
# of the same tree. No assertion rests on a time window: a busy machine may stall the
# writer past the debounce and split the batch, which costs a cycle, never a change.
source "$(dirname "$0")/../common.inc"
mkdir -p "$T/tree/data"
for i in $(seq 1 50); do echo "seed $i" > "$T/tree/data/seed$i"; done

wait_for() {
  for _ in $(seq 1 $(( ${3:-60} * 10 ))); do grep -q -- "$1" "$2" 2>/dev/null && return 0; sleep 0.1; done
  echo "--- $2:"; cat "$2"; fail "timed out waiting for '$1'"
}
"$QUICKBOOT" --json watch "$T/tree" --no-guest --export "$T/out" >"$T/cycles" 2>"$T/err" &
pid=$!
wait_for "initial export" "$T/err"
python3 - "$T/tree/many" <<'PY'
import os, sys
os.mkdir(sys.argv[1])
for i in range(5000):
    with open(os.path.join(sys.argv[1], f"f{i:05d}"), "w") as f:
        f.write(f"content {i}\n")
PY
# The tree is final now: its fresh export is what the watcher's output must become.
"$QUICKBOOT" -q export "$T/tree" --out "$T/fresh"
for _ in $(seq 1 3000); do   # hang guard only (300 s)
  cmp -s "$T/out/fs.json" "$T/fresh/fs.json" && break
  sleep 0.1
done
kill -INT $pid; wait $pid || true
cmp -s "$T/out/fs.json" "$T/fresh/fs.json" || {
  cat "$T/cycles"; diff <(tr ']' '\n' <"$T/out/fs.json") <(tr ']' '\n' <"$T/fresh/fs.json") | head -20
  fail "watch export differs from a fresh export"
}
n=$(grep -c '"summary"' "$T/cycles")
grep -q '"ok":false' "$T/cycles" && { cat "$T/cycles"; fail "a cycle failed"; }
# Coalescing: one cycle per file would be 5,000; a batch split by stalls is a few.
[ "$n" -ge 1 ] && [ "$n" -le 100 ] || { cat "$T/cycles"; fail "5,000 files gave $n cycles"; }
echo "5,000 files: $n cycle(s)"
diff <(cd "$T/out" && ls | grep -v '^fs.json$' | sort) <(cd "$T/fresh" && ls | grep -v '^fs.json$' | sort) >/dev/null ||
  fail "blob sets differ"
echo PASS
