#!/usr/bin/env bash
# `quickboot run`: the command's exact status, stdout and stderr kept apart; 127 for a
# command the guest does not have.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
make_rootfs "$T/root"

rc=0
qb -q run "$T/root" --timeout 120 -- sh -c 'echo out; echo err >&2; exit 42' >"$T/o" 2>"$T/e" || rc=$?
[ "$rc" -eq 42 ] || { cat "$T/e"; fail "expected exit 42, got $rc"; }
[ "$(cat "$T/o")" = "out" ] || fail "stdout was '$(cat "$T/o")'"
[ "$(cat "$T/e")" = "err" ] || fail "stderr was '$(cat "$T/e")'"

# Arguments survive quoting: spaces, quotes, dollar signs.
qb -q run "$T/root" --timeout 120 -- printf '%s|' "a b" "it's" '$HOME' >"$T/o"
[ "$(cat "$T/o")" = "a b|it's|\$HOME|" ] || fail "arguments mangled: $(cat "$T/o")"

# A repeatable option right before -- takes one value: the command stays whole.
out=$(qb -q run "$T/root" --timeout 120 --append quickboot_test=1 -- sh -c 'echo whole')
[ "$out" = "whole" ] || fail "--append before -- swallowed the command: '$out'"

rc=0
qb -q run "$T/root" --timeout 120 -- no-such-command >"$T/o" 2>"$T/e" || rc=$?
[ "$rc" -eq 127 ] || { cat "$T/e"; fail "expected 127 for a missing command, got $rc"; }
grep -q "no-such-command: command not found in the root filesystem" "$T/e" || { cat "$T/e"; fail "no message for 127"; }

# The rootfs's own shell and tools (its /bin/busybox), not the initramfs's /usr/bin/busybox.
out=$(qb -q run "$T/root" --timeout 120 -- sh -c 'readlink /proc/$$/exe; ls /proc/1/exe >/dev/null && echo ls-ok')
[ "$out" = "$(printf '/bin/busybox\nls-ok')" ] || fail "run used another shell than the rootfs's: '$out'"
# A rootfs with no shell at all: a command that exists still runs, `sh` is 127.
mkdir -p "$T/nosh/bin" "$T/nosh/proc" "$T/nosh/sys" "$T/nosh/dev" "$T/nosh/run"
cp /bin/busybox "$T/nosh/bin/busybox"
qb -q run "$T/nosh" --timeout 120 -- /bin/busybox true || fail "a rootfs without a shell cannot run a program"
rc=0; qb -q run "$T/nosh" --timeout 120 -- sh -c true 2>"$T/e" || rc=$?
[ "$rc" -eq 127 ] || { cat "$T/e"; fail "sh in a rootfs without one gave $rc, not 127"; }
echo PASS
