#!/usr/bin/env bash
# What quickboot says around a quiet boot: `boot` reports on stderr when the kernel
# booted and when the rootfs's init started (the console has `quiet`); `run --timeout`
# after a snapshot restore prints real console lines, never an empty list; and three
# boot snapshots are kept, the one just saved among them (docs/boot.md).
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
make_rootfs "$T/root"

for mode in "" --no-snapshot; do
  timeout 600 "$QUICKBOOT" boot "$T/root" $mode </dev/null >"$T/o" 2>"$T/e" || { cat "$T/e"; fail "boot failed ($mode)"; }
  grep -q "^quickboot: kernel booted; the initramfs is mounting the root" "$T/e" || { cat "$T/e"; fail "no 'kernel booted' notice ($mode)"; }
  grep -q "^quickboot: switched to the rootfs's init /sbin/init" "$T/e" || { cat "$T/e"; fail "no 'switched to init' notice ($mode)"; }
  grep -q "quickboot-example: userspace reached" "$T/o" || { cat "$T/o"; fail "init not reached ($mode)"; }
done

# A timeout after a restore (the run before saved this machine's snapshot).
qb -q run "$T/root" --timeout 300 -- true || fail "run failed"
rc=0
timeout 600 "$QUICKBOOT" -v run "$T/root" --timeout 20 -- sleep 1000 >/dev/null 2>"$T/e" || rc=$?
[ "$rc" -eq 124 ] || { cat "$T/e"; fail "expected 124, got $rc"; }
grep -q "restoring the boot snapshot" "$T/e" || { cat "$T/e"; fail "the timed-out run did not restore a snapshot"; }
grep -A1 "last console lines:" "$T/e" | grep -q "  | quickboot-init: kernel booted" || { cat "$T/e"; fail "no console lines after the restore"; }

# Pruning: a private store (the entry hard-linked) so only this test's snapshots count.
entry=$(dirname "$(qb --json kernel list | jq -r '.[] | select(.default) | .modules')")
export QUICKBOOT_HOME="$T/home"
mkdir -p "$QUICKBOOT_HOME/kernels"
cp -al "$entry" "$QUICKBOOT_HOME/kernels/" 2>/dev/null || cp -a "$entry" "$QUICKBOOT_HOME/kernels/"
for mem in 300 310 320 330; do
  qb -v run "$T/root" --memory $mem --timeout 300 -- true 2>"$T/e" || { cat "$T/e"; fail "run --memory $mem failed"; }
  saved=$(sed -n 's/.*boot snapshot saved to \(.*\.vmstate\).*/\1/p' "$T/e" | head -1)
  [ -n "$saved" ] && [ -s "$saved" ] || { cat "$T/e"; fail "--memory $mem: no snapshot saved"; }
  n=$(ls "$QUICKBOOT_HOME/snapshots" | grep -c '\.vmstate$')
  [ "$n" -le 3 ] || fail "$n snapshots kept after the save for --memory $mem, not at most 3"
done
echo PASS
