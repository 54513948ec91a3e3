#!/usr/bin/env bash
# Every documented kernel command line parameter of the initramfs, given with --append,
# takes effect: init=, root=, rootfstype=, rootflags=, disablehooks=, break=premount,
# break=postmount, rd.debug, ro/rw and a hook's own key=value option. Both on the
# snapshot path (the words are on the snapshot's command line) and with --no-snapshot
# (the kernel's own initramfs unpacker, the path KVM users take). Also: an init that
# only an --overlay layer provides passes quickboot's host-side check and runs.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
make_rootfs "$T/root"
printf '#!/bin/sh\necho "custom-init-ran as $0"\npoweroff -f\n' >"$T/root/sbin/custom-init"
chmod 755 "$T/root/sbin/custom-init"
mkdir -p "$T/ovl/sbin"
printf '#!/bin/sh\necho "overlay-init-ran"\npoweroff -f\n' >"$T/ovl/sbin/overlay-init"
chmod 755 "$T/ovl/sbin/overlay-init"
mkdir -p "$T/hooks/hooks"
printf 'run_hook() {\n    echo "hook-option myopt=$myopt"\n}\n' >"$T/hooks/hooks/showopt"

# boot_out OUT ARGS...: a non-interactive boot (console on stdout), hang-guarded.
boot_out() {
  local out=$1; shift
  timeout 600 "$QUICKBOOT" -q boot "$T/root" "$@" </dev/null >"$out" 2>&1 || { cat "$out"; fail "boot $* failed"; }
}

# break_shell WHERE MODE: the shell the break offers answers, and `exit` resumes the boot.
break_shell() {
  local where=$1 mode=$2 pid i msg=${1/mount/-mount}
  rm -f "$T/in"; mkfifo "$T/in"
  timeout 600 "$QUICKBOOT" -q boot "$T/root" $mode --append "break=$where" <"$T/in" >"$T/o" 2>&1 &
  pid=$!
  exec 3>"$T/in"
  for i in $(seq 1 1500); do grep -q "$msg break requested" "$T/o" && break; sleep 0.2; done
  grep -q "$msg break requested" "$T/o" || { kill $pid; cat "$T/o"; fail "break=$where $mode: no shell"; }
  sleep 1
  echo 'echo "answer-$((6*7))"' >&3
  for i in $(seq 1 600); do grep -q "answer-42" "$T/o" && break; sleep 0.2; done
  echo exit >&3
  wait $pid || { cat "$T/o"; fail "break=$where $mode: the boot did not go on"; }
  exec 3>&-
  grep -q "answer-42" "$T/o" || { cat "$T/o"; fail "break=$where $mode: the shell did not answer"; }
  grep -q "quickboot-example: userspace reached" "$T/o" || { cat "$T/o"; fail "break=$where $mode: init not reached"; }
}

for mode in "" --no-snapshot; do
  echo "== ${mode:-snapshot path}"
  # init= and a hook's own option.
  boot_out "$T/o" $mode --hooks "$T/hooks" --hook showopt --append "init=/sbin/custom-init myopt=42"
  grep -q "custom-init-ran as /sbin/custom-init" "$T/o" || { cat "$T/o"; fail "init= ignored ($mode)"; }
  grep -q "hook-option myopt=42" "$T/o" || { cat "$T/o"; fail "the hook's option myopt= not seen ($mode)"; }

  # An init only the overlay has.
  boot_out "$T/o" $mode --overlay "$T/ovl" --append init=/sbin/overlay-init
  grep -q "overlay-init-ran" "$T/o" || { cat "$T/o"; fail "init= from an --overlay layer ($mode)"; }

  # disablehooks=9p_root hands the mount to the default handler, which takes root=,
  # rootfstype= and rootflags= (msize shows in the root's mount options).
  out=$(timeout 600 "$QUICKBOOT" -q run "$T/root" $mode --writable --timeout 600 --append \
    "disablehooks=9p_root root=host9p rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=65536" \
    -- cat /proc/mounts) || fail "default mount handler boot failed ($mode)"
  grep -q "^host9p / 9p .*msize=65536" <<<"$out" || { echo "$out"; fail "root=/rootfstype=/rootflags= not used ($mode)"; }
  expect_fail 3 "cannot mount root 'nosuchtag' (type ext4" -- timeout 600 "$QUICKBOOT" run "$T/root" $mode --timeout 600 \
    --append "disablehooks=9p_root root=nosuchtag rootfstype=ext4" -- true

  # ro on a --writable boot: the root is mounted read-only, the host tree untouched.
  rc=0
  timeout 600 "$QUICKBOOT" -q run "$T/root" $mode --writable --timeout 600 --append ro -- touch /ro-probe 2>/dev/null || rc=$?
  [ "$rc" -ne 0 ] && [ ! -e "$T/root/ro-probe" ] || fail "ro ignored on a --writable boot ($mode, rc $rc)"

  # rd.debug traces the runtime (set -x) on the console.
  timeout 600 "$QUICKBOOT" -v run "$T/root" $mode --timeout 600 --append rd.debug -- true >/dev/null 2>"$T/e" ||
    { cat "$T/e"; fail "rd.debug run failed ($mode)"; }
  grep -q "^+ run_hookfunctions" "$T/e" || { tail -30 "$T/e"; fail "rd.debug: no trace on the console ($mode)"; }

  break_shell premount "$mode"
  break_shell postmount "$mode"
done
echo PASS
