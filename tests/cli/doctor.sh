#!/usr/bin/env bash
# `doctor --json`: one object, every check with a status; on a machine without working
# KVM (like this one and CI) kvm is a warning with the reason, not a failure. Without
# QEMU on PATH it exits 1 and names the fix.
source "$(dirname "$0")/../common.inc"
command -v jq >/dev/null || skip "jq not installed"
rc=0
qb --json doctor >"$T/j" 2>"$T/e" || rc=$?
jq -e 'type == "object" and (.checks | length) >= 8' "$T/j" >/dev/null || fail "not a doctor object: $(cat "$T/j")"
for c in qemu-system-x86_64 busybox kvm io_uring inotify store; do
  jq -e --arg c "$c" '.[$c].status | IN("ok", "warning", "error")' "$T/j" >/dev/null || fail "no check $c"
done
# Exit status follows the required checks only.
required_bad=$(jq '[.checks[] | select(.status == "error")] | length' "$T/j")
if [ "$required_bad" -eq 0 ]; then [ "$rc" -eq 0 ] || fail "exit $rc with nothing missing"
else [ "$rc" -eq 1 ] || fail "exit $rc with something missing"; fi

# KVM: what the accelerator probe says, with the reason when unusable.
usable=$(jq -r '.kvm.usable' "$T/j")
if [ "$usable" = false ]; then
  jq -e '.kvm.status == "warning" and (.kvm.reason | length) > 10 and (.kvm.fix | length) > 0' "$T/j" >/dev/null ||
    fail "KVM unusable without reason or fix: $(jq .kvm "$T/j")"
  echo "KVM unusable here: $(jq -r .kvm.reason "$T/j")"
else
  jq -e '.kvm.status == "ok"' "$T/j" >/dev/null || fail "usable KVM not ok"
fi
jq -e '.io_uring.available | type == "boolean"' "$T/j" >/dev/null || fail "io_uring not reported"
jq -e '.inotify.max_user_watches > 0 and .inotify.max_user_instances > 0' "$T/j" >/dev/null || fail "inotify limits"
jq -e --arg h "$QUICKBOOT_HOME" '.store.path == $h and .store.kernels == 0 and .store.free_bytes > 0' "$T/j" >/dev/null ||
  fail "store: $(jq .store "$T/j")"

# No QEMU on PATH: exit 1, the missing item and its fix, in text and JSON.
mkdir -p "$T/bin"
rc=0
PATH="$T/bin" qb doctor >"$T/o" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || { cat "$T/o"; fail "doctor without QEMU exited $rc"; }
grep -q "^MISSING qemu-system-x86_64 .*qemu-system-x86_64 is not installed" "$T/o" || { cat "$T/o"; fail "no MISSING line"; }
grep -qF "fix: sudo apt-get install qemu-system-x86" "$T/o" || { cat "$T/o"; fail "no fix"; }
rc=0
PATH="$T/bin" qb --json doctor >"$T/j" 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] && jq -e '.ok == false and .["qemu-system-x86_64"].status == "error"' "$T/j" >/dev/null || fail "json without QEMU"
echo PASS
