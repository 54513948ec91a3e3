#!/usr/bin/env bash
# `quickboot watch` with real QEMU under TCG: rootfs edits seen by the running guest,
# a hook edit reboots into the new hook, --run reports fail then pass, SIGINT leaves
# nothing behind, and deleting + re-creating a watched directory keeps the loop alive.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
make_rootfs "$T/root"
mkdir -p "$T/hooks/hooks"
echo 'run_hook() { echo "hook-version-1"; }' > "$T/hooks/hooks/probe"

# wait_for PATTERN FILE [SECONDS]
wait_for() {
  for _ in $(seq 1 $(( ${3:-120} * 5 ))); do grep -q -- "$1" "$2" 2>/dev/null && return 0; sleep 0.2; done
  echo "--- $2:"; cat "$2"; fail "timed out waiting for '$1'"
}

"$QUICKBOOT" watch "$T/root" --hooks "$T/hooks" --hook probe --headless \
  --run 'cat /etc/motd; test -e /etc/ready' >"$T/out" 2>"$T/err" &
pid=$!
wait_for "first boot" "$T/err"
wait_for "FAIL (exit 1)" "$T/err"
log=$(sed -n 's/^quickboot: guest console: //p' "$T/err")
grep -q "hook-version-1" "$log" || fail "first hook version not seen"

# A rootfs edit: the running guest sees the new content (no reboot).
echo "motd version 2" > "$T/root/etc/motd"
wait_for "motd version 2" "$T/out"
wait_for "etc/motd changed -> ran in" "$T/err"

# A new file appears through the overlay; the command now passes.
touch "$T/root/etc/ready"
wait_for "pass (exit 0)" "$T/err"

# Delete and re-create a watched directory, then edit inside it.
rm -rf "$T/root/etc" && mkdir "$T/root/etc"
sleep 1
echo "motd version 3" > "$T/root/etc/motd"
wait_for "motd version 3" "$T/out"

# A hook edit: initramfs rebuilt, guest rebooted with the new hook.
echo 'run_hook() { echo "hook-version-2"; }' > "$T/hooks/hooks/probe"
wait_for "hooks/probe changed -> initramfs rebuilt" "$T/err"
wait_for "hook-version-2" "$log"

qemu=$(pgrep -P $pid -f qemu-system || true)
[ -n "$qemu" ] || fail "no QEMU child while watching"
dirs=$(tr '\0' '\n' < /proc/$qemu/cmdline | grep -oE '/[^,]*quickboot-(vm|boot)\.[^/]*' | sort -u)
[ -n "$dirs" ] || fail "cannot find the runtime directories"
kill -INT $pid
rc=0; wait $pid || rc=$?
[ "$rc" -eq 130 ] || fail "SIGINT gave exit $rc, not 130"
kill -0 "$qemu" 2>/dev/null && fail "QEMU survived SIGINT"
for d in $dirs; do [ ! -e "$d" ] || fail "left behind: $d"; done
grep -q "stopped" "$T/err" || fail "no stop message"
echo PASS
