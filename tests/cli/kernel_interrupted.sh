#!/usr/bin/env bash
# A killed add leaves no entry; the next add sweeps its temp directory.
source "$(dirname "$0")/../common.inc"
deb=$(debian_deb amd64)
# The binary itself, not the qb function: kill -9 must hit quickboot, not a subshell.
"$QUICKBOOT" kernel add "$deb" >/dev/null 2>&1 &
pid=$!
sleep 1.5
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
[ "$(qb --json kernel list | jq length)" -eq 0 ] || fail "killed add left an entry"
ls -A "$QUICKBOOT_HOME/kernels" | grep -q '^\.add-' || skip "the add finished before the kill"
[ ! -e "$QUICKBOOT_HOME/kernels/default" ] || fail "default set by a killed add"
echo garbage >"$T/bad"
qb kernel add "$T/bad" 2>/dev/null || true   # fails before touching the store: no sweep
qb kernel add "$deb" >/dev/null 2>&1
if ls -A "$QUICKBOOT_HOME/kernels" | grep -q '^\.add-'; then fail "stale temp dir not swept"; fi
[ "$(qb --json kernel list | jq length)" -eq 1 ] || fail "list"
echo ok
