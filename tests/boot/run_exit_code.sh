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
echo PASS
