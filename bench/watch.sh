#!/usr/bin/env bash
# `quickboot watch` cycle times (issue 6), each against a reference from the same run:
#  1. write to a rootfs file -> updated fs.json, on the debootstrap minbase tree,
#     median of 20 (debounce included); reference: a full `quickboot export` of the tree.
#  2. write to a runtime hook -> guest at userspace under TCG, median of 5; reference:
#     what a user does without watch: cold `initrd build` + a fresh boot to init.
# The minbase tree is shared with bench/export.sh (built there with debootstrap).
source "$(dirname "$0")/lib.sh"
C=${QB_BENCH_CACHE:-$HOME/.cache/quickboot/bench}
if [ ! -d "$C/minbase/usr" ]; then
  mkdir -p "$C"
  echo "bench: building the minbase tree with debootstrap (once)" >&2
  rm -rf "$C/minbase.tmp"
  debootstrap --variant=minbase bookworm "$C/minbase.tmp" "$("$ROOT/scripts/debian-mirror.sh")" >"$C/debootstrap.log" 2>&1
  mv "$C/minbase.tmp" "$C/minbase"
fi
bench_kernel

echo "1. rootfs write -> fs.json ($C/minbase)"
python3 "$ROOT/bench/lib/watch_bench.py" export "$QB" "$C/minbase" "$W/out" "${EXPORT_RUNS:-20}" | tee "$W/e.txt"
full_export() { rm -rf "$W/full" && "$QB" export "$C/minbase" --out "$W/full"; }
full=$(median 3 full_export)
e_med=$(awk '/^median/ {print $2}' "$W/e.txt")

echo "2. hook write -> guest at userspace (TCG)"
bash "$ROOT/examples/busybox-rootfs.sh" "$W/root" >/dev/null
mkdir -p "$W/hooks/hooks"
python3 "$ROOT/bench/lib/watch_bench.py" hook "$QB" "$W/root" "$W/hooks" "${HOOK_RUNS:-5}" | tee "$W/h.txt"
h_med=$(awk '/^median/ {print $2}' "$W/h.txt")
manual() { "$QB" -q initrd build --no-cache --hooks "$W/hooks" --hook bench -o "$W/x.img" &&
           "$QB" -q boot "$W/root" --hooks "$W/hooks" --hook bench </dev/null; }
ref=$(median 3 manual)

printf '\n%-60s %8s\n' "watch cycle (median)" "ms"
printf '%-60s %8s\n' "rootfs write -> updated fs.json (minbase, n=${EXPORT_RUNS:-20})" "$e_med"
printf '%-60s %8s\n' "  reference: full quickboot export of the same tree" "$full"
printf '%-60s %8s\n' "hook write -> guest at userspace (TCG, n=${HOOK_RUNS:-5})" "$h_med"
printf '%-60s %8s\n' "  reference: cold initrd build + fresh boot to init" "$ref"
echo "ratios: export $(ratio "$full" "$e_med")x faster than a full export; hook cycle $(ratio "$ref" "$h_med")x"
echo "goals: write -> fs.json <= 150 ms; hook -> userspace <= 2500 ms"
