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

# ---- Arch's default HOOKS line, against the real mkinitcpio v41 in the same tree and run.
# Needs root and the Arch-like tree (tests/oracle/arch_tree.inc explains; the tree is
# never written: an overlay in $W takes the writes, unmounted on exit).
echo
T=$W
skip() { echo "default-HOOKS comparison skipped: $*"; exit 0; }
KREL=$("$QB" kernel list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["release"])')
KMODS=$("$QB" kernel list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["modules"])')
QB_SOURCE_DIR=$ROOT
source "$ROOT/tests/oracle/arch_tree.inc"
arch_tree_setup
mk_runs=${MK_RUNS:-3}
hooks="base udev autodetect microcode modconf kms keyboard keymap consolefont block filesystems fsck"
qb_hooks=(); for h in $hooks; do qb_hooks+=(--hook "$h"); done
printf 'HOOKS=(%s)\n' "$hooks" >"$ORACLE_ROOT/tmp/bench.conf"
mk_cmd() { chroot "$ORACLE_ROOT" mkinitcpio -c /tmp/bench.conf -k "$KREL" -r /modroot -D /usr/lib/initcpio -g /tmp/bench.img; }
qb_cold() { "$QB" initrd build --no-cache --rootfs "$ORACLE_ROOT" "${qb_hooks[@]}" --compress zstd -o "$W/d.img"; }
# autodetect on this machine for both: mkinitcpio with /sys bound into its chroot (its
# root there is an overlay, so it keeps every filesystem module), quickboot with
# --autodetect host.
mk_sys_cmd() { chroot "$ORACLE_ROOT" mkinitcpio -c /tmp/bench.conf -k "$KREL" -r /modroot -D /usr/lib/initcpio -g /tmp/bench-sys.img; }
qb_cold_host() { "$QB" initrd build --no-cache --autodetect host --rootfs "$ORACLE_ROOT" "${qb_hooks[@]}" --compress zstd -o "$W/h.img"; }
# Without autodetect quickboot keeps every module, as mkinitcpio without /sys: the same work.
qb_noauto=(); for h in $hooks; do [ "$h" = autodetect ] || qb_noauto+=(--hook "$h"); done
qb_cold_all() { "$QB" initrd build --no-cache --rootfs "$ORACLE_ROOT" "${qb_noauto[@]}" --compress zstd -o "$W/all.img"; }
qb_cached() { "$QB" initrd build --rootfs "$ORACLE_ROOT" "${qb_hooks[@]}" --compress zstd -o "$W/d.img"; }
mk_cmd >"$W/mk.log" 2>&1 || true  # mkinitcpio reports errors here (autodetect without /sys) and still writes the image
[ -s "$ORACLE_ROOT/tmp/bench.img" ] || { cat "$W/mk.log"; echo "mkinitcpio wrote no image" >&2; exit 1; }
mk=$(median "$mk_runs" mk_cmd)
dcold=$(median "$runs" qb_cold)
dcold_all=$(median "$runs" qb_cold_all)
dcold_host=$(median "$runs" qb_cold_host)
mk_sys=
if mount --bind /sys "$ORACLE_ROOT/sys" 2>/dev/null; then
  _oracle_mounts+=("$ORACLE_ROOT/sys")
  mk_sys_cmd >"$W/mk-sys.log" 2>&1 || true
  mk_sys=$(median "$mk_runs" mk_sys_cmd)
fi
qb_cached >/dev/null 2>&1
dwarm=$(median "$runs" qb_cached)
# The same cache hit when the output has to be written again (it was removed).
qb_cached_copy() { rm -f "$W/d.img"; qb_cached; }
dcopy=$(median "$runs" qb_cached_copy)
# An edited hook: the install hooks run again, the modules' base archive is reused.
hookdir=$W/edited-hooks; mkdir -p "$hookdir/install"
qb_edit() {
  printf 'build() { add_file /etc/hostname /etc/qb-edit-%s; }\n' "$(date +%s%N)" >"$hookdir/install/edited"
  "$QB" initrd build --rootfs "$ORACLE_ROOT" "${qb_hooks[@]}" --hooks "$hookdir" --hook edited --compress zstd -o "$W/e.img"
}
qb_edit >/dev/null 2>&1
dedit=$(median "$runs" qb_edit)
printf '%-52s %8s\n' "default HOOKS, zstd (wall ms)" "ms"
printf '%-52s %8s\n' "mkinitcpio v41 -g, no /sys: every module (median of $mk_runs)" "$mk"
printf '%-52s %8s\n' "mkinitcpio v41 -g, /sys: this machine (median of $mk_runs)" "${mk_sys:-n/a}"
printf '%-52s %8s\n' "quickboot cold, autodetect: the guest (--no-cache, median of $runs)" "$dcold"
printf '%-52s %8s\n' "quickboot cold, --autodetect host (median of $runs)" "$dcold_host"
printf '%-52s %8s\n' "quickboot cold, no autodetect: every module (median of $runs)" "$dcold_all"
printf '%-52s %8s\n' "quickboot cached, output in place (median of $runs)" "$dwarm"
printf '%-52s %8s\n' "quickboot cached, output rewritten (median of $runs)" "$dcopy"
printf '%-52s %8s\n' "quickboot after a hook edit (median of $runs)" "$dedit"
printf 'image bytes: mkinitcpio %s (with /sys %s), quickboot %s (host %s, every module %s)\n' \
  "$(stat -c %s "$ORACLE_ROOT/tmp/bench.img")" "$(stat -c %s "$ORACLE_ROOT/tmp/bench-sys.img" 2>/dev/null || echo n/a)" \
  "$(stat -c %s "$W/d.img")" "$(stat -c %s "$W/h.img")" "$(stat -c %s "$W/all.img")"
echo "ratios, mkinitcpio / quickboot cold:"
echo "  default HOOKS as each runs them (mkinitcpio no /sys, quickboot guest): $(ratio "$mk" "$dcold")"
echo "  every module in both (same work):                                     $(ratio "$mk" "$dcold_all")"
[ -n "$mk_sys" ] && echo "  autodetect on this machine in both (mkinitcpio also keeps every fs): $(ratio "$mk_sys" "$dcold_host")"
echo "mkinitcpio/hook-edit ratio: $(ratio "$mk" "$dedit")"
echo "goals: cold >= 20x faster, cached < 15 ms"
