#!/usr/bin/env bash
# The main job on a built-in default, from a fresh machine: install what quickboot
# needs, build it, fetch Debian's current kernel package, add it to the store, build a
# small busybox rootfs, and boot it twice: once to its own /sbin/init, once to run a
# command whose output and exit status come back.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
qb=./build/quickboot
work=${QB_DEMO_DIR:-$HOME/.cache/quickboot/demo}
mkdir -p "$work"

deb=$(kernels/debian.sh amd64)
echo
echo "== quickboot kernel add $(basename "$deb") --default"
$qb kernel add "$deb" --default
echo
echo "== examples/busybox-rootfs.sh $work/rootfs"
rm -rf "$work/rootfs"
bash examples/busybox-rootfs.sh "$work/rootfs"
echo
echo "== quickboot boot $work/rootfs   (the rootfs's own /sbin/init; console below)"
t0=$(date +%s%N)
$qb boot "$work/rootfs" </dev/null
echo "(booted in $(( ($(date +%s%N) - t0) / 1000000 )) ms; under TCG the first boot of a machine also saves its boot snapshot)"
echo
echo "== quickboot run $work/rootfs -- sh -c 'cat /etc/motd; uname -sr; exit 7'"
rc=0
t0=$(date +%s%N)
$qb run "$work/rootfs" -- sh -c 'cat /etc/motd; uname -sr; exit 7' || rc=$?
echo "(exit status from the guest: $rc, in $(( ($(date +%s%N) - t0) / 1000000 )) ms: restored from the boot snapshot under TCG)"
