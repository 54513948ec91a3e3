# Shared by bench/*.sh: the binary, a private store with the Debian kernel, timing.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QB=${QUICKBOOT:-$ROOT/build/quickboot}
[ -x "$QB" ] || { echo "bench: build first (bash scripts/setup.sh)" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/qbbench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export QUICKBOOT_HOME=${QB_BENCH_HOME:-$HOME/.cache/quickboot/bench-home}

bench_kernel() {  # adds Debian's current amd64 kernel to the bench store once
  if ! grep -q '"release"' <<<"$("$QB" kernel list --json 2>/dev/null)"; then
    "$QB" -q kernel add "$("$ROOT/kernels/debian.sh" amd64)" --default >/dev/null
  fi
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# time_ms CMD...: wall milliseconds of one run (fails if the command fails)
time_ms() { local s; s=$(date +%s%N); "$@" >/dev/null 2>&1; echo $(( ($(date +%s%N) - s) / 1000000 )); }

# median N CMD...: median wall ms of N runs
median() {
  local n=$1; shift
  local xs=()
  for _ in $(seq 1 "$n"); do xs+=("$(time_ms "$@")"); done
  printf '%s\n' "${xs[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
