#!/usr/bin/env bash
# Signals outside a VM loop (issue 15, item 11): SIGINT, SIGTERM or SIGHUP during
# `kernel add`, during an export and during `initrd build --no-cache` end quickboot with
# that signal and leave no scratch directory (.add-*, .initrd-nocache-*, quickboot-*
# in TMPDIR); what a SIGKILLed --no-cache build left is swept by the next one. Waits
# poll for a condition; the timeouts are only hang guards. CI once saw a SIGHUP leave an
# .add-* behind: the unpacking thread recreated it after the cleanup had removed it.
source "$(dirname "$0")/../common.inc"
set -m   # background jobs keep SIGINT (non-interactive shells start them with it ignored)
export TMPDIR="$T/tmp"; mkdir -p "$TMPDIR"
K="$QUICKBOOT_HOME/kernels"

# wait_for CMD...: polls until CMD succeeds (hang guard: 300 s).
wait_for() { for _ in $(seq 3000); do "$@" && return 0; sleep 0.1; done; return 1; }
has_add_dir() { ls -A "$K" 2>/dev/null | grep -q '^\.add-'; }
no_scratch() {
  ! ls -A "$K" 2>/dev/null | grep -q '^\.add-' &&
  ! ls -A "$QUICKBOOT_HOME" 2>/dev/null | grep -q '^\.initrd-nocache' &&
  [ -z "$(ls -A "$TMPDIR")" ]
}
# signal_status PID SIG: the job's exit status after the signal (128 + SIG when it died of it).
ended_by() {
  local pid=$1 sig=$2 rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq $((128 + $(kill -l "$sig"))) ] || fail "after SIG$sig: exit $rc"
}

deb=$(debian_deb amd64)
# 1. kernel add: SIGINT, SIGTERM and SIGHUP while the package is being unpacked.
for sig in INT TERM HUP; do
  "$QUICKBOOT" kernel add "$deb" >/dev/null 2>"$T/err" &
  pid=$!
  wait_for has_add_dir || { kill -9 "$pid"; fail "kernel add made no .add-* directory"; }
  # Stopped while it unpacks, the signal is taken when it goes on: no window to miss.
  kill -STOP "$pid" 2>/dev/null || { wait "$pid" || true; skip "kernel add finished before SIG$sig"; }
  kill -"$sig" "$pid"
  kill -CONT "$pid"
  ended_by "$pid" "$sig"
  no_scratch || fail "SIG$sig during kernel add left: $(ls -A "$K" "$QUICKBOOT_HOME" "$TMPDIR")"
  [ "$(qb --json kernel list | jq length)" -eq 0 ] || fail "SIG$sig during kernel add left an entry"
done

# 2. initrd build --no-cache needs a kernel: add one (the real package, once).
qb -q kernel add "$deb" --default >/dev/null
mkdir -p "$QUICKBOOT_HOME/.initrd-nocache-999999.abcdef"   # a SIGKILLed build's (pid gone)
qb -q initrd build --no-cache -o "$T/initrd.img" || fail "initrd build --no-cache failed"
no_scratch || fail "a dead build's .initrd-nocache-* was not swept: $(ls -A "$QUICKBOOT_HOME")"

# 3. export: SIGTERM and SIGHUP while a real Debian tree is exported.
tree=$("$QB_SOURCE_DIR/tests/trees/debian.sh" minbase-i386 2>/dev/null) || skip "no cached Debian tree"
for sig in TERM HUP; do
  rm -rf "$T/out"
  "$QUICKBOOT" export "$tree" --out "$T/out" --skip-unreadable >/dev/null 2>"$T/err" &
  pid=$!
  wait_for test -d "$T/out" || { kill -9 "$pid"; fail "export never created its output"; }
  # The export of this tree takes about a second: stopped the moment its output appears,
  # it takes the signal there when it goes on, however busy the machine is.
  kill -STOP "$pid" 2>/dev/null || { wait "$pid" || true; skip "export finished before SIG$sig"; }
  kill -"$sig" "$pid"
  kill -CONT "$pid"
  ended_by "$pid" "$sig"
  no_scratch || fail "SIG$sig during export left: $(ls -A "$TMPDIR")"
  # Nothing half-written in the output either (fs.json.tmp.*, blob temp names).
  left=$(find "$T/out" -name '*.tmp.*')
  [ -z "$left" ] || fail "SIG$sig during export left temporary files: $left"
  # The next export completes and leaves no temporary files of the killed one.
  qb -q export "$tree" --out "$T/out" --skip-unreadable >/dev/null 2>&1 || fail "export after SIG$sig failed"
  ! find "$T/out" -name '*.tmp.*' -o -name 'staging-*' | grep -q . || fail "temporary files left after SIG$sig"
done
echo PASS
