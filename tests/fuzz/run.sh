#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, tree build-fuzz) and runs each for
# SECONDS_PER_TARGET seconds (default 20) from its seed corpus, one after the other.
# Usage: tests/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
# The seed is fixed (QB_FUZZ_SEED, default 1): a run is then a prefix of any longer run
# from the same corpus, so what CI explores in its short budget was explored before.
# Exits 1 when a target crashes, leaks, times out or runs out of memory; the input that
# did it is kept in build-fuzz/findings/<target>/. New inputs found go to
# build-fuzz/corpus/<target>/ (not committed; copy the interesting ones to corpus/).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
secs=${1:-20}
shift || true
build=${QB_FUZZ_BUILD:-$src/build-fuzz}
all=(tar state fs_json bzimage elf deb cpio_path config)
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all[@]}")

for cxx in clang++-14 clang++; do command -v "$cxx" >/dev/null && break; done
command -v "$cxx" >/dev/null || { echo "tests/fuzz/run.sh: clang++ is needed (Debian: clang, libclang-rt-dev)" >&2; exit 2; }
cc=${cxx/++/}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# Warnings are the normal build's business; clang's differ from gcc's.
CC=$cc CXX=$cxx cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQB_FUZZ=ON \
  -DQB_BUILD_TESTS=OFF -DQB_WARNINGS_AS_ERRORS=OFF "${launcher[@]}" >/dev/null
cmake --build "$build" --target "${targets[@]/#/fuzz_}"

scratch=$(mktemp -d /dev/shm/qb-fuzz.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t findings=$build/findings/$t
  mkdir -p "$corpus" "$findings"
  log=$build/fuzz-$t.log
  echo "== fuzz_$t: ${secs}s (log: $log)"
  # -close_fd_mask=2: the targets' own warnings would drown the output (crash reports
  # still go to libFuzzer's copy of stderr). -rss_limit_mb and -timeout catch
  # unbounded memory and hangs; -max_len lets tar and .deb inputs grow.
  if TMPDIR=$scratch "$build/tests/fuzz/fuzz_$t" "$corpus" "$here/corpus/$t" -max_total_time="$secs" \
      -seed="${QB_FUZZ_SEED:-1}" -close_fd_mask=2 -rss_limit_mb=2048 -timeout=30 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$findings/" >"$log" 2>&1; then
    grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" | sed 's/^/   /' || true
  else
    echo "   FAILED: see $log and $findings/" >&2
    grep -E 'ERROR|SUMMARY|deadly signal|==[0-9]+==' "$log" | head -5 | sed 's/^/   /' >&2 || true
    failed+=("$t")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "tests/fuzz/run.sh: failed: ${failed[*]}" >&2
  exit 1
fi
