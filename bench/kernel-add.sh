#!/usr/bin/env bash
# Adding the real Debian kernel package to a fresh store vs `dpkg -x` of the same file,
# interleaved in the same run; median of N (default 5) each, and the ratio.
# Goal: quickboot kernel add <= 1.2x dpkg -x.
#   bench/kernel-add.sh [path/to/quickboot] [runs]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
qb=${1:-$here/build/quickboot}
runs=${2:-5}
[ -x "$qb" ] || { echo "bench: $qb not built" >&2; exit 1; }
deb=$("$here/kernels/debian.sh" amd64)
T=$(mktemp -d "${TMPDIR:-/tmp}/qbbench.XXXXXX")
trap 'rm -rf "$T"' EXIT

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

cat "$deb" >/dev/null  # both start from a warm page cache
: >"$T/qb.times"; : >"$T/dpkg.times"
for i in $(seq 1 "$runs"); do
  rm -rf "$T/home" "$T/x"
  t0=$(now); QUICKBOOT_HOME="$T/home" "$qb" -q kernel add "$deb" >/dev/null; t1=$(now)
  echo "$t1 - $t0" | bc -l >>"$T/qb.times"
  t0=$(now); dpkg -x "$deb" "$T/x"; t1=$(now)
  echo "$t1 - $t0" | bc -l >>"$T/dpkg.times"
done
q=$(median <"$T/qb.times"); d=$(median <"$T/dpkg.times")
echo "file:                 $(basename "$deb") ($(du -h "$deb" | cut -f1))"
echo "quickboot kernel add: $(printf %.2f "$q") s  (median of $runs: $(tr '\n' ' ' <"$T/qb.times" | xargs printf '%.2f '))"
echo "dpkg -x:              $(printf %.2f "$d") s  (median of $runs: $(tr '\n' ' ' <"$T/dpkg.times" | xargs printf '%.2f '))"
echo "ratio:                $(printf %.2f "$(echo "$q / $d" | bc -l)")x  (goal <= 1.20x)"
echo "load average:         $(cut -d' ' -f1-3 /proc/loadavg)"
