#!/usr/bin/env bash
# A boot snapshot that quickboot did not save (issue 15, item 6): an empty file, a FIFO,
# a directory or a symlink in its place is discarded with a notice and the boot goes on
# from scratch (and saves a good one), instead of hanging at "restoring". The
# `timeout` is only a hang guard. Then the --no-snapshot path of the same machine.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
make_rootfs "$T/root"
# A memory size no other test uses: a machine, so a snapshot, of its own.
m=(--memory 424 --timeout 300)
run() { timeout 900 "$QUICKBOOT" -v run "$T/root" "${m[@]}" "$@"; }

run -- true >"$T/o" 2>"$T/e" || { cat "$T/e"; fail "first run failed"; }
state=$(sed -n 's/.*\(restoring the boot snapshot\|boot snapshot saved to\) \(.*\.vmstate\).*/\2/p' "$T/e" | head -1)
[ -n "$state" ] || { cat "$T/e"; fail "no snapshot used or saved"; }
[ -f "$state" ] && [ -s "$state" ] || fail "no snapshot file at $state"

for bad in empty fifo directory symlink; do
  rm -rf "$state"
  case $bad in
    empty) : >"$state" ;;
    fifo) mkfifo "$state" ;;
    directory) mkdir -p "$state/sub" ;;
    symlink) echo data >"$T/elsewhere"; ln -s "$T/elsewhere" "$state" ;;
  esac
  rc=0; run -- echo booted-$bad >"$T/o" 2>"$T/e" || rc=$?
  [ "$rc" -eq 0 ] || { cat "$T/e"; fail "$bad snapshot: exit $rc (124 = hung)"; }
  [ "$(cat "$T/o")" = "booted-$bad" ] || { cat "$T/e"; fail "$bad snapshot: output '$(cat "$T/o")'"; }
  grep -q "the boot snapshot $state is .*: discarded, booting from scratch" "$T/e" ||
    { cat "$T/e"; fail "$bad snapshot: no notice"; }
  grep -q "boot snapshot saved to $state" "$T/e" || { cat "$T/e"; fail "$bad snapshot: no fresh save"; }
  [ -f "$state" ] && [ ! -L "$state" ] && [ -s "$state" ] || fail "$bad snapshot: not replaced by a real one"
done
[ "$(cat "$T/elsewhere")" = data ] || fail "the symlink's target was written"
! ls "$(dirname "$state")" | grep -q '\.tmp' || fail "temporary files left after the saves"

# The restored snapshot (saved with sync + rename) still works, and --no-snapshot too.
run -- echo restored >"$T/o" 2>"$T/e" || { cat "$T/e"; fail "restore failed"; }
grep -q "restoring the boot snapshot $state" "$T/e" || { cat "$T/e"; fail "did not restore"; }
[ "$(cat "$T/o")" = restored ] || fail "restored run output"
run --no-snapshot -- echo scratch >"$T/o" 2>"$T/e" || { cat "$T/e"; fail "--no-snapshot failed"; }
[ "$(cat "$T/o")" = scratch ] || fail "--no-snapshot output"
echo PASS
