#!/usr/bin/env bash
# bench/zstd.sh [QUICKBOOT]: `quickboot export --zstd` (level 19, one frame per blob,
# compressed on every core) against `zstd -19 -T0` of the same bytes (the tree as one
# tar stream, zstd's own multi-threading), in the same run; then a re-export after
# touching every file, which must compress nothing again (the state and the store know
# every content). Tree: Debian minbase i386 (tests/trees/debian.sh), or $QB_BENCH_TREE.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
QB=$(realpath "${1:-$here/../build/quickboot}")
tree=${QB_BENCH_TREE:-$("$here/../tests/trees/debian.sh" minbase-i386)}
W=$(mktemp -d "${TMPDIR:-/var/tmp}/qb-zstd-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
ms() { local s; s=$(date +%s%N); "$@"; echo $(( ($(date +%s%N) - s) / 1000000 )) >"$W/ms"; }
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ); tree $tree"
cp -a "$tree" "$W/tree"   # a copy: the re-export below touches every file
bytes=$(find "$W/tree" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
distinct=$(find "$W/tree" -type f -print0 | xargs -0 sha256sum | awk '!seen[$1]++ {print $2}' | tr '\n' '\0' | xargs -0 stat -c %s | awk '{s += $1} END {print s}')
sync
ms "$QB" -q --json export "$W/tree" --out "$W/out" --zstd >"$W/full.json"; qb_ms=$(cat "$W/ms")
sync
ms sh -c "tar -C '$W/tree' -cf - . | zstd -19 -T0 -q -o '$W/ref.tar.zst'"; ref_ms=$(cat "$W/ms")
qb_out=$(find "$W/out" -name '*.bin.zst' -printf '%s\n' | awk '{s += $1} END {print s}')
ref_out=$(stat -c %s "$W/ref.tar.zst")
find "$W/tree" -type f -exec touch {} +
ms "$QB" -q --json export "$W/tree" --out "$W/out" --zstd >"$W/again.json"; again_ms=$(cat "$W/ms")
again_added=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["blobs_added"]))' "$W/again.json")
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
rate() { awk -v b="$1" -v t="$2" 'BEGIN {printf "%.1f", b / 1048576 / (t / 1000)}'; }
echo "input: $(mib "$bytes") MiB in files, $(mib "$distinct") MiB of distinct contents"
printf '%-44s %9s %9s %12s\n' "" "wall s" "MiB/s" "output MiB"
printf '%-44s %9.1f %9s %12s\n' "quickboot export --zstd (19, per blob)" "$(awk -v t="$qb_ms" 'BEGIN{print t/1000}')" "$(rate "$bytes" "$qb_ms")" "$(mib "$qb_out")"
printf '%-44s %9.1f %9s %12s\n' "tar | zstd -19 -T0 (one stream)" "$(awk -v t="$ref_ms" 'BEGIN{print t/1000}')" "$(rate "$bytes" "$ref_ms")" "$(mib "$ref_out")"
printf '%-44s %9.1f %9s %12s\n' "re-export after touching every file" "$(awk -v t="$again_ms" 'BEGIN{print t/1000}')" "" "$again_added new blobs"
awk -v a="$qb_ms" -v b="$ref_ms" 'BEGIN {printf "ratio: export --zstd took %.2fx the time of zstd -19 -T0 on the same bytes\n", a / b}'
[ "$again_added" = 0 ] || { echo "bench: the re-export compressed $again_added blobs again" >&2; exit 1; }
