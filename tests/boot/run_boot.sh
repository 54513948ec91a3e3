#!/usr/bin/env bash
# `quickboot run --boot -- CMD` boots the rootfs's own systemd and runs CMD once the
# system is up: on the Debian systemd tree, multi-user.target is active, the system is
# `running` (or `degraded`, and then quickboot prints the failed units), no unit
# failed, and CMD's stdout, stderr and status come back as with `run`. Both with the
# boot snapshot and with --no-snapshot. A command the tree lacks is 127 (no boot of
# systemd needed); a rootfs whose init is not systemd is a clear error. With --writable
# the command's writes reach the tree.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
use_systemd_tree

for mode in "" --no-snapshot; do
  rc=0
  timeout 1800 "$QUICKBOOT" -q run "$SYSTEMD_TREE" --boot $mode --timeout 1500 -- sh -c \
    'systemctl is-system-running; systemctl is-active multi-user.target; systemctl --failed --no-legend --plain; readlink /proc/1/exe; echo to-stderr >&2; exit 7' \
    >"$T/o" 2>"$T/e" || rc=$?
  [ "$rc" -eq 7 ] || { cat "$T/o" "$T/e"; fail "run --boot gave $rc, not the command's 7 ($mode)"; }
  state=$(sed -n 1p "$T/o")
  case $state in
    running) ;;
    degraded) grep -q "the system is degraded; failed units:" "$T/e" || { cat "$T/e"; fail "degraded without the failed units ($mode)"; } ;;
    *) cat "$T/o" "$T/e"; fail "system state '$state' ($mode)" ;;
  esac
  [ "$(sed -n 2p "$T/o")" = active ] || { cat "$T/o"; fail "multi-user.target not active ($mode)"; }
  [ "$(sed -n 3p "$T/o")" = /usr/lib/systemd/systemd ] || { cat "$T/o"; fail "PID 1 is not the tree's systemd, or a unit failed ($mode)"; }
  [ "$(wc -l <"$T/o")" -eq 3 ] || { cat "$T/o"; fail "systemctl --failed is not empty ($mode)"; }
  grep -q "^to-stderr$" "$T/e" || { cat "$T/e"; fail "the command's stderr did not arrive ($mode)"; }
  grep -q "to-stderr" "$T/o" && fail "stderr mixed into stdout ($mode)"
done

# --writable: the guest's writes reach the tree (a copy: the cached tree stays clean);
# quickboot's own unit lives in the guest's /run and never lands in the tree.
cp -a "$SYSTEMD_TREE" "$T/wtree"
rc=0
timeout 1800 "$QUICKBOOT" -q run "$T/wtree" --boot --writable --timeout 1500 -- sh -c \
  'systemctl is-active multi-user.target && echo written >/written-by-guest' >"$T/o" 2>"$T/e" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T/o" "$T/e"; fail "run --boot --writable gave $rc"; }
[ "$(cat "$T/wtree/written-by-guest" 2>/dev/null)" = written ] || fail "the guest's write did not reach the tree (--writable)"
[ -z "$(find "$T/wtree/etc" "$T/wtree/usr/lib/systemd" -name 'quickboot*')" ] || fail "quickboot's unit was left in the tree"
rm -rf "$T/wtree"

# Not found: 127 and the message, decided before systemd starts.
rc=0
timeout 900 "$QUICKBOOT" -q run "$SYSTEMD_TREE" --boot --timeout 600 -- nosuchcmd >"$T/o" 2>"$T/e" || rc=$?
[ "$rc" -eq 127 ] || { cat "$T/e"; fail "run --boot nosuchcmd gave $rc, not 127"; }
grep -q "nosuchcmd: command not found in the root filesystem" "$T/e" || { cat "$T/e"; fail "no message for nosuchcmd"; }

# Another init: refused before QEMU starts.
make_rootfs "$T/bb"
expect_fail 1 "--boot supports systemd only" -- qb run "$T/bb" --boot -- true
mkdir -p "$T/empty"
expect_fail 1 "run --boot: $T/empty has no /sbin/init" -- qb run "$T/empty" --boot -- true
echo PASS
