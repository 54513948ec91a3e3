#!/usr/bin/env bash
# Initramfs build time for Debian's kernel with the default hooks, against the floor of
# `find | cpio -o -H newc | zstd` over the very same file set, in the same run.
#   bench/initrd.sh [RUNS]      (default 10)
source "$(dirname "$0")/lib.sh"
runs=${1:-10}
bench_kernel

cold=$(median "$runs" "$QB" initrd build --no-cache -o "$W/cold.img")
"$QB" -q initrd build -o "$W/warm.img"
warm=$(median "$runs" "$QB" initrd build -o "$W/warm.img")
# In-process figure, without process start-up (shared libraries, CLI parsing).
inproc=$("$QB" --json initrd build -o "$W/warm.img" | awk -F': ' '/milliseconds/ {gsub(",","",$2); printf "%.1f", $2}')
inproc_cold=$("$QB" --json initrd build --no-cache -o "$W/cold.img" | awk -F': ' '/milliseconds/ {gsub(",","",$2); printf "%.1f", $2}')

# The reference: the same files, archived by cpio and compressed by zstd.
mkdir "$W/tree"
python3 "$ROOT/tests/fixtures/cpio_extract.py" "$W/cold.img" "$W/tree" >/dev/null
floor_cmd() { (cd "$W/tree" && find . | sort | cpio -o -H newc --quiet | zstd -q -1 -c > "$W/floor.img"); }
floor=$(median "$runs" floor_cmd)
files=$(find "$W/tree" | wc -l)

printf '\n%-52s %8s\n' "initramfs build (median of $runs, wall)" "ms"
printf '%-52s %8s\n' "quickboot cold build (--no-cache)" "$cold"
printf '%-52s %8s\n' "  of which in-process" "$inproc_cold"
printf '%-52s %8s\n' "quickboot cached rebuild" "$warm"
printf '%-52s %8s\n' "  of which in-process" "$inproc"
printf '%-52s %8s\n' "floor: find | cpio -o -H newc | zstd -1 ($files entries)" "$floor"
echo "cold/floor ratio: $(ratio "$cold" "$floor")   goals: cold <= 50 ms, cached <= 5 ms"
