#!/usr/bin/env bash
# `quickboot run` runs the rootfs's own programs, never the initramfs's busybox applets:
# on a real Debian tree `ls` is GNU coreutils and `sh` is the tree's dash; a command the
# tree lacks is 127 with a message naming it. (The busybox example rootfs: run_exit_code.sh.)
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
use_systemd_tree

for mode in "" --no-snapshot; do
  out=$(qb -q run "$SYSTEMD_TREE" $mode --timeout 900 -- ls --version) || fail "run -- ls --version failed ($mode)"
  head -n1 <<<"$out" | grep -q "GNU coreutils" || { echo "$out"; fail "ls is not the tree's GNU ls ($mode)"; }

  out=$(qb -q run "$SYSTEMD_TREE" $mode --timeout 900 -- sh -c 'readlink /proc/$$/exe') || fail "run -- sh failed ($mode)"
  [ "$out" = /usr/bin/dash ] || fail "sh is '$out', not the tree's /usr/bin/dash ($mode)"

  # Programs the command starts come from the tree too (PATH inside the rootfs).
  out=$(qb -q run "$SYSTEMD_TREE" $mode --timeout 900 -- sh -c 'tar --version | head -n1; ip -V') ||
    fail "run -- sh -c 'tar; ip' failed ($mode)"
  grep -q "GNU tar" <<<"$out" && grep -q "iproute2" <<<"$out" || { echo "$out"; fail "tar/ip not the tree's ($mode)"; }

  rc=0
  qb -q run "$SYSTEMD_TREE" $mode --timeout 900 -- nosuchcmd >"$T/o" 2>"$T/e" || rc=$?
  [ "$rc" -eq 127 ] || { cat "$T/e"; fail "nosuchcmd gave $rc, not 127 ($mode)"; }
  grep -q "nosuchcmd: command not found in the root filesystem" "$T/e" || { cat "$T/e"; fail "no clear message for nosuchcmd ($mode)"; }

  # Symlinks are followed inside the rootfs: an alternatives chain runs (awk ->
  # /etc/alternatives/awk -> mawk), a dangling link is "not found", like a missing name.
  mkdir -p "$T/ov/usr/local/bin"
  ln -sfn /nonexistent/qb-target "$T/ov/usr/local/bin/qb-dangling"
  ln -sfn ../../bin/awk "$T/ov/usr/local/bin/qb-awk"
  rc=0
  qb -q run "$SYSTEMD_TREE" --overlay "$T/ov" $mode --timeout 900 -- qb-dangling >"$T/o" 2>"$T/e" || rc=$?
  [ "$rc" -eq 127 ] || { cat "$T/e"; fail "a dangling symlink gave $rc, not 127 ($mode)"; }
  grep -q "qb-dangling: command not found in the root filesystem" "$T/e" || { cat "$T/e"; fail "no clear message for a dangling symlink ($mode)"; }
  out=$(qb -q run "$SYSTEMD_TREE" --overlay "$T/ov" $mode --timeout 900 -- qb-awk 'BEGIN { print "awk-ran" }') ||
    fail "a symlink chain through /etc/alternatives did not run ($mode)"
  [ "$out" = awk-ran ] || fail "qb-awk printed '$out' ($mode)"
done
echo PASS
