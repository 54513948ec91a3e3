#!/usr/bin/env bash
# Boot-to-command time under the accelerator auto picks (TCG on these machines):
# `quickboot run ROOTFS -- true` (restoring the boot snapshot, the default), the same
# booted from scratch (--no-snapshot) and a machine's first boot (which saves the
# snapshot), against the naive `qemu -kernel bzImage -initrd gzip-cpio` boot of the
# same busybox tree, same run; the Debian systemd tree booted by its own systemd
# (`run --boot`) against `run -- true` on it; then N consecutive runs counting hangs and
# failures. Options via env: RUNS (10), RELIABILITY (100), SYSTEMD=0 to skip the systemd
# rows, SYSTEMD_RUNS (3), MACHINES=1 to also compare pc/q35/microvm and initramfs
# compressions.
source "$(dirname "$0")/lib.sh"
runs=${RUNS:-10}
reliability=${RELIABILITY:-100}
bench_kernel
bash "$ROOT/examples/busybox-rootfs.sh" "$W/root" >/dev/null

"$QB" -q run "$W/root" -- true  # warm the initramfs cache and guest-modules dir
qb_ms=$(median "$runs" "$QB" -q run "$W/root" --timeout 120 -- true)
scratch_ms=$(median "$runs" "$QB" -q run "$W/root" --no-snapshot --timeout 120 -- true)
first() { rm -rf "$QUICKBOOT_HOME/snapshots"; "$QB" -q run "$W/root" --timeout 120 -- true; }
first_ms=$(median 3 first)

# Naive: the whole tree as a gzip cpio, its init runs `true` then powers off.
mkdir "$W/naive" && cp -a "$W/root/." "$W/naive/"
printf '#!/bin/sh\nmount -t proc proc /proc\ntrue\npoweroff -f\n' > "$W/naive/init" && chmod 755 "$W/naive/init"
(cd "$W/naive" && find . | cpio -o -H newc --quiet | gzip -6 > "$W/naive.cpio.gz")
bz=$("$QB" --json kernel list | python3 -c 'import json,sys; print([k for k in json.load(sys.stdin) if k["default"]][0]["bzimage"])')
naive() {
  timeout 120 qemu-system-x86_64 -m 512 -kernel "$bz" -initrd "$W/naive.cpio.gz" \
    -append "console=ttyS0 quiet panic=-1" -nographic -no-reboot </dev/null
}
naive_ms=$(median "$runs" naive)

printf '\n%-56s %8s\n' "boot to command and back (median of $runs, wall)" "ms"
printf '%-56s %8s\n' "quickboot run ROOTFS -- true (boot snapshot restored)" "$qb_ms"
printf '%-56s %8s\n' "quickboot run --no-snapshot (booted from scratch)" "$scratch_ms"
printf '%-56s %8s\n' "first boot of a machine (boots, saves the snapshot; of 3)" "$first_ms"
printf '%-56s %8s\n' "naive qemu -kernel bzImage -initrd gzip-cpio (same tree)" "$naive_ms"
echo "speed-up: $(ratio "$naive_ms" "$qb_ms")x restored, $(ratio "$naive_ms" "$scratch_ms")x from scratch   goals: quickboot <= 2000 ms, >= 2.5x"

# systemd: the Debian tree (tests/trees/debian.sh) booted by its own systemd up to
# multi-user.target, then a probe as the command (run --boot). The probe prints the
# guest's uptime and the monotonic time multi-user.target became active, so the host's
# time to multi-user.target is the wall time minus what came after it (the probe and the
# poweroff, a fraction of a second). SYSTEMD=0 skips; SYSTEMD_RUNS (3) per mode.
if [ "${SYSTEMD:-1}" = 1 ]; then
  tree=$("$ROOT/tests/trees/debian.sh" systemd-amd64)
  sruns=${SYSTEMD_RUNS:-3}
  probe='read u _ </proc/uptime; m=$(systemctl show -p ActiveEnterTimestampMonotonic --value multi-user.target); echo "$u $m"'
  sd_runs() {  # sd_runs MODE...: "WALL_MS MULTIUSER_MS" per run, one line each
    local s out wall
    for _ in $(seq 1 "$sruns"); do
      s=$(now_ms)
      out=$("$QB" -q run "$tree" --boot "$@" --timeout 1500 -- sh -c "$probe")
      wall=$(( $(now_ms) - s ))
      awk -v w="$wall" -v o="$out" 'BEGIN {split(o, a, " "); printf "%d %d\n", w, w - (a[1] * 1000 - a[2] / 1000)}'
    done
  }
  med() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  "$QB" -q run "$tree" --boot --timeout 1500 -- true >/dev/null  # saves this machine's snapshot
  snap=$(sd_runs); scratch=$(sd_runs --no-snapshot)
  tree_run_ms=$(median "$runs" "$QB" -q run "$tree" --timeout 300 -- true)
  printf '\n%-56s %8s\n' "systemd tree (Debian bookworm), median of $sruns, wall" "ms"
  printf '%-56s %8s\n' "run --boot: multi-user.target reached (snapshot)" "$(echo "$snap" | cut -d' ' -f2 | med)"
  printf '%-56s %8s\n' "run --boot -- probe, until QEMU exited (snapshot)" "$(echo "$snap" | cut -d' ' -f1 | med)"
  printf '%-56s %8s\n' "run --boot: multi-user.target reached (--no-snapshot)" "$(echo "$scratch" | cut -d' ' -f2 | med)"
  printf '%-56s %8s\n' "run --boot -- probe, until QEMU exited (--no-snapshot)" "$(echo "$scratch" | cut -d' ' -f1 | med)"
  printf '%-56s %8s\n' "run -- true on the same tree, no init (median of $runs)" "$tree_run_ms"
  printf '%-56s %8s\n' "run -- true on the busybox tree (above)" "$qb_ms"
  echo "systemd boot vs run -- true on the same tree: $(ratio "$(echo "$snap" | cut -d' ' -f1 | med)" "$tree_run_ms")x (snapshot)"
fi

if [ "${MACHINES:-0}" = 1 ]; then
  printf '\n%-40s %10s %6s\n' "configuration (median of $runs)" "ms" "fails"
  for m in pc q35 microvm; do
    fails=0; xs=()
    for _ in $(seq 1 "$runs"); do
      s=$(now_ms); if "$QB" -q run "$W/root" --machine $m --timeout 30 -- true >/dev/null 2>&1; then xs+=($(( $(now_ms) - s ))); else fails=$((fails + 1)); fi
    done
    med=$(printf '%s\n' "${xs[@]:-0}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '%-40s %10s %6s\n' "--machine $m" "$med" "$fails"
  done
  for c in none zstd gzip lz4; do
    "$QB" -q run "$W/root" --compress $c -- true >/dev/null 2>&1 || true
    printf '%-40s %10s\n' "--compress $c" "$(median "$runs" "$QB" -q run "$W/root" --compress $c --timeout 60 -- true)"
  done
fi

if [ "$reliability" -gt 0 ]; then
  hangs=0; fails=0
  for i in $(seq 1 "$reliability"); do
    rc=0; "$QB" -q run "$W/root" --timeout 60 -- true >/dev/null 2>&1 || rc=$?
    case $rc in 0) ;; 124) hangs=$((hangs + 1)) ;; *) fails=$((fails + 1)) ;; esac
  done
  echo "reliability: $reliability consecutive runs, $hangs hangs, $fails failures   goal: 0"
fi
