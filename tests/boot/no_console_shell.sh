#!/usr/bin/env bash
# `run` has no console to type into: a shell request in the initramfs ends the run
# with exit 3 and a message saying so, instead of a guest waiting for input until
# --timeout (exit 124 here would mean it waited). Three ways a shell is asked for:
# 9p_root's own mount-failure path, break=premount, and a foreign runtime (the
# rootfs's own, via --runtime rootfs) that starts a shell on the console itself. `watch`
# reports the foreign runtime's shell as a failed cycle.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
make_rootfs "$T/root"

# expect_no_console_exit WHAT PATTERN ARGS...: `run ARGS -- true` exits 3, stderr matches.
expect_no_console_exit() {
  local what=$1 pattern=$2; shift 2
  local rc=0
  timeout 900 "$QUICKBOOT" run "$@" --timeout 600 -- true >"$T/o" 2>"$T/e" || rc=$?
  [ "$rc" -eq 3 ] || { cat "$T/e"; fail "$what: exit $rc, not 3"; }
  grep -q "$pattern" "$T/e" || { cat "$T/e"; fail "$what: the message does not say why"; }
}

for mode in "" --no-snapshot; do
  expect_no_console_exit "9p mount failure ($mode)" "no console to type into" \
    "$T/root" $mode --append "rootflags=trans=no-such-transport"
  grep -q "dropped into an emergency shell" "$T/e" || { cat "$T/e"; fail "9p mount failure ($mode): the hook's own words are not shown"; }
  expect_no_console_exit "break=premount ($mode)" "no console to type into" "$T/root" $mode --append break=premount
done

# A runtime that is not quickboot's: its shell starts on the console; the host sees
# busybox's words for an interactive shell without a terminal and stops the guest.
mkdir -p "$T/root/usr/lib/initcpio"
cat >"$T/root/usr/lib/initcpio/init_functions" <<'F'
ask_for_a_shell() {
    setsid sh -c 'exec sh -i </dev/console >/dev/console 2>&1'
}
F
cat >"$T/root/usr/lib/initcpio/init" <<'F'
#!/usr/bin/ash
. /init_functions
mount -t proc proc /proc
echo "a foreign runtime asks for a shell"
ask_for_a_shell
F
chmod +x "$T/root/usr/lib/initcpio/init"
expect_no_console_exit "--runtime rootfs shell" "started an interactive shell" "$T/root" --runtime rootfs --no-snapshot
grep -q "a foreign runtime asks for a shell" "$T/e" || { cat "$T/e"; fail "the console lines before the shell are not shown"; }

# watch has no console input either: the cycle fails with the reason (the next save
# boots again), instead of a boot that never reports.
"$QUICKBOOT" watch "$T/root" --runtime rootfs --no-snapshot --headless >"$T/wo" 2>"$T/we" &
pid=$!
for _ in $(seq 3000); do grep -q "watch has no console input" "$T/we" && break; kill -0 $pid 2>/dev/null || break; sleep 0.2; done
grep -q "first boot.*started an interactive shell; watch has no console input" "$T/we" ||
  { kill $pid; cat "$T/we"; fail "watch: the shell was not reported"; }
kill -INT $pid
rc=0; wait $pid || rc=$?
[ "$rc" -eq 130 ] || { cat "$T/we"; fail "watch: SIGINT gave exit $rc, not 130"; }
echo PASS
