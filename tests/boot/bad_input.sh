#!/usr/bin/env bash
# boot/run bad input: each a clear error before QEMU starts; SIGKILL of quickboot
# during a boot leaves no QEMU behind.
source "$(dirname "$0")/../common.inc"
need_qemu
make_rootfs "$T/root"

# No kernel in an empty store.
expect_fail 1 "quickboot kernel add" -- qb run "$T/root" -- true
use_shared_kernel

expect_fail 1 "ROOTFS $T/missing does not exist" -- qb run "$T/missing" -- true
touch "$T/file"
expect_fail 1 "ROOTFS $T/file is not a directory" -- qb boot "$T/file"
mkdir -p "$T/noinit/etc"
expect_fail 1 "has no /sbin/init" -- qb boot "$T/noinit"
expect_fail 1 "has no /bin/nothere" -- qb boot "$T/root" --append init=/bin/nothere
expect_fail 1 "qemu-system-x86_64 is not installed" -- env PATH=/nonexistent "$QUICKBOOT" run "$T/root" -- true
grep -q "apt-get install qemu-system-x86" "$T/err" || fail "no install hint for QEMU"
if ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
  expect_fail 1 "--accel kvm: KVM is not usable here" -- qb run "$T/root" --accel kvm -- true
  # auto must pick TCG here, say why, and print the accelerator used.
  qb run "$T/root" --timeout 300 -- true 2>"$T/e" || { cat "$T/e"; fail "auto accel run failed"; }
  grep -q "using TCG" "$T/e" && grep -q "accelerator: tcg" "$T/e" || { cat "$T/e"; fail "accel choice not reported"; }
fi
expect_fail 2 "" -- qb run "$T/root" --machine nosuch -- true
expect_fail 1 "expected HOST:GUEST" -- qb run "$T/root" --inject nocolon -- true

# SIGKILL during a boot: QEMU dies with us (parent-death signal), nothing is left.
"$QUICKBOOT" run "$T/root" --timeout 300 -- sleep 100 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 1200); do pgrep -P $pid -f qemu-system >/dev/null && break; sleep 0.1; done  # hang guard only
qemu=$(pgrep -P $pid -f qemu-system) || fail "QEMU did not start"
sleep 1
kill -KILL $pid
wait $pid 2>/dev/null || true
for _ in $(seq 1 600); do kill -0 "$qemu" 2>/dev/null || break; sleep 0.1; done  # hang guard only
kill -0 "$qemu" 2>/dev/null && { kill -KILL "$qemu"; fail "QEMU survived SIGKILL of quickboot"; }

# SIGTERM: QEMU ended, runtime directory removed, exit 130.
"$QUICKBOOT" run "$T/root" --timeout 300 -- sleep 100 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 1200); do pgrep -P $pid -f qemu-system >/dev/null && break; sleep 0.1; done  # hang guard only
qemu=$(pgrep -P $pid -f qemu-system) || fail "QEMU did not start"
dir=$(tr '\0' '\n' < /proc/$qemu/cmdline | grep -o '/[^,]*quickboot-vm\.[^/]*' | head -n1)
kill -TERM $pid
rc=0; wait $pid || rc=$?
[ "$rc" -eq 130 ] || fail "SIGTERM gave exit $rc, not 130"
kill -0 "$qemu" 2>/dev/null && fail "QEMU survived SIGTERM of quickboot"
[ -n "$dir" ] && [ ! -e "$dir" ] || fail "runtime directory $dir left behind"
echo PASS
