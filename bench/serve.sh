#!/usr/bin/env bash
# bench/serve.sh [QUICKBOOT]: `quickboot serve` against `python3 -m http.server` on the
# same files in the same run: 200 parallel clients (wrk -c200) fetching the blobs of a
# real export (Debian minbase i386, or $QB_BENCH_TREE), each server for the same time.
# Prints requests/s, MB/s and latency percentiles, and the ratios. Needs wrk (Debian).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
QB=$(realpath "${1:-$here/../build/quickboot}")
command -v wrk >/dev/null || { echo "bench: wrk missing (apt-get install wrk)" >&2; exit 1; }
tree=${QB_BENCH_TREE:-$("$here/../tests/trees/debian.sh" minbase-i386)}
secs=${QB_BENCH_SECONDS:-15}
W=$(mktemp -d "${TMPDIR:-/var/tmp}/qb-serve-bench.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"' EXIT
"$QB" -q export "$tree" --out "$W/site"
(cd "$W/site" && ls | grep -E '^[0-9a-f]{8}\.bin$' | sort) >"$W/blobs"
bytes=$(cd "$W/site" && xargs cat <"$W/blobs" | wc -c)
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
echo "files: $(wc -l <"$W/blobs") blobs of $tree, $((bytes / 1048576)) MiB; wrk -t2 -c200 -d${secs}s over all of them"
cat >"$W/paths.lua" <<LUA
paths = {}
for line in io.lines("$W/blobs") do paths[#paths + 1] = "/" .. line end
i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
LUA

run_wrk() {  # run_wrk NAME URL: prints "NAME req/s MB/s p50 p99 errors"
  sleep 1
  wrk -t2 -c200 -d"${secs}s" --timeout 30s --latency -s "$W/paths.lua" "$2" >"$W/$1.wrk" 2>&1
  python3 - "$1" "$W/$1.wrk" <<'PY'
import re, sys
name, text = sys.argv[1], open(sys.argv[2]).read()
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s|m)", v); x = float(m.group(1))
    return x * {"us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4}[m.group(2)]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
tr = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", text)
mbs = float(tr.group(1)) * {"B": 1 / 2**20, "KB": 1 / 1024, "MB": 1, "GB": 1024}[tr.group(2)]
p50 = ms(re.search(r"50%\s+(\S+)", text).group(1)); p99 = ms(re.search(r"99%\s+(\S+)", text).group(1))
err = re.search(r"Socket errors: (.*)", text); non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{name} {rps:.0f} {mbs:.1f} {p50:.2f} {p99:.2f} {(err.group(1) if err else 'none').replace(' ', '')}/non2xx={non2xx.group(1) if non2xx else 0}")
PY
}

"$QB" -q serve "$W/site" --port 0 >"$W/qb.url" 2>"$W/qb.err" &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$W/qb.url" ] && break; sleep 0.1; done
qb_url=$(awk '{print $NF}' "$W/qb.url")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$W/site" && exec python3 -m http.server --bind 127.0.0.1 "$port" >/dev/null 2>&1) &
pids+=($!)
sleep 1
read -r _ q_rps q_mbs q_p50 q_p99 q_err < <(run_wrk quickboot "$qb_url")
read -r _ p_rps p_mbs p_p50 p_p99 p_err < <(run_wrk python "http://127.0.0.1:$port/")
printf '%-32s %10s %9s %10s %10s  %s\n' server "req/s" "MB/s" "p50 ms" "p99 ms" "errors"
printf '%-32s %10s %9s %10s %10s  %s\n' "quickboot serve" "$q_rps" "$q_mbs" "$q_p50" "$q_p99" "$q_err"
printf '%-32s %10s %9s %10s %10s  %s\n' "python3 -m http.server" "$p_rps" "$p_mbs" "$p_p50" "$p_p99" "$p_err"
awk -v a="$q_rps" -v b="$p_rps" 'BEGIN {printf "ratio: quickboot serve %.1fx the requests/s of python3 -m http.server\n", a/b}'
echo "latency: p50 $q_p50 ms vs $p_p50 ms, p99 $q_p99 ms vs $p_p99 ms (quickboot serve vs python3 -m http.server)"
