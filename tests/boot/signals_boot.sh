#!/usr/bin/env bash
# SIGTERM or SIGHUP in the first seconds of a boot (issue 15, item 11): before the VM
# loop's own handling starts (initramfs, scratch directory, QEMU starting) as well as
# inside it, quickboot ends (130, or 128+N when it died of the signal) and leaves no
# quickboot-boot.* / quickboot-vm.* directory and no QEMU. Waits poll for a condition;
# timeouts are only hang guards.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
make_rootfs "$T/root"
set -m   # background jobs keep their default signal dispositions
export TMPDIR="$T/tmp"; mkdir -p "$TMPDIR"
wait_for() { for _ in $(seq 3000); do "$@" && return 0; sleep 0.05; done; return 1; }
scratch_made() { ls -A "$TMPDIR" | grep -q '^quickboot-boot\.'; }
qemu_started() { pgrep -f "qemu-system.*$TMPDIR/" >/dev/null; }

for sig in TERM HUP; do
  for when in scratch qemu; do
    "$QUICKBOOT" run "$T/root" --no-snapshot --timeout 600 -- sleep 600 >/dev/null 2>"$T/err" &
    pid=$!
    if [ $when = scratch ]; then wait_for scratch_made; else wait_for qemu_started; fi ||
      { kill -9 "$pid"; cat "$T/err"; fail "no $when seen"; }
    kill -"$sig" "$pid"
    rc=0; wait "$pid" || rc=$?
    [ "$rc" -eq 130 ] || [ "$rc" -eq $((128 + $(kill -l $sig))) ] || { cat "$T/err"; fail "SIG$sig at $when: exit $rc"; }
    for _ in $(seq 100); do qemu_started || break; sleep 0.1; done
    qemu_started && fail "SIG$sig at $when: a QEMU of this run is still alive"
    [ -z "$(ls -A "$TMPDIR")" ] || fail "SIG$sig at $when left: $(ls -A "$TMPDIR")"
  done
done
echo PASS
