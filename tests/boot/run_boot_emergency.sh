#!/usr/bin/env bash
# `run --boot` on a systemd tree whose boot fails into emergency mode: sulogin waits for
# a password on a console `run` cannot type into, so the run ends with exit 3, says
# that systemd is in emergency mode and shows systemd's own failure lines, instead of
# waiting until --timeout (exit 124 here would mean it waited). The failure is a real
# one: an /etc/fstab entry (given with --overlay; the cached tree stays untouched)
# whose mount fails, so local-fs.target fails. With the snapshot and --no-snapshot.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
use_systemd_tree

mkdir -p "$T/ov/etc"
cp "$SYSTEMD_TREE/etc/fstab" "$T/ov/etc/fstab"
echo "tmpfs /mnt/qb-broken tmpfs qb-no-such-option 0 0" >>"$T/ov/etc/fstab"
for mode in "" --no-snapshot; do
  rc=0
  timeout 1800 "$QUICKBOOT" run "$SYSTEMD_TREE" --overlay "$T/ov" --boot $mode --timeout 1500 -- true \
    >"$T/o" 2>"$T/e" || rc=$?
  [ "$rc" -eq 3 ] || { cat "$T/e"; fail "emergency mode ($mode): exit $rc, not 3"; }
  grep -q "systemd entered emergency mode" "$T/e" || { cat "$T/e"; fail "emergency mode ($mode): the message does not say so"; }
  grep -q "no console to type into" "$T/e" || { cat "$T/e"; fail "emergency mode ($mode): the message does not say why the run ended"; }
  failures=$(sed -n '/^failures the console reported:/,/^last console lines:/p' "$T/e")
  grep -q '| \[FAILED\] Failed to mount mnt-qb\\x2dbroken.mount' <<<"$failures" ||
    { cat "$T/e"; fail "emergency mode ($mode): the failed mount is not shown (without colour codes)"; }
  grep -q $'\e' "$T/e" && { cat -v "$T/e"; fail "emergency mode ($mode): terminal escapes in the message"; }
done
echo PASS
