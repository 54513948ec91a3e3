#!/usr/bin/env bash
# `quickboot clean` after a SIGKILLed `up`: no QEMU, socket or temp file is left, and the
# rootfs and the kernel store are untouched. A QEMU that outlived its quickboot (pid in
# .quickboot/qemu.pid, arguments naming the project's runtime dir) is stopped; a pid
# file pointing at some other process is not trusted. A live `up` is not pulled from.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
P="$T/proj"
make_rootfs "$P/rootfs"
printf 'rootfs = "rootfs"\n' > "$P/quickboot.toml"
cd "$P"
manifest "$P/rootfs" > "$T/rootfs.before"
manifest "$QUICKBOOT_HOME/kernels" > "$T/store.before"

# 1. SIGKILL an `up` while its guest runs.
"$QUICKBOOT" up -- sleep 300 >/dev/null 2>&1 &
up=$!
for _ in $(seq 100); do [ -s "$P/.quickboot/qemu.pid" ] && break; sleep 0.2; done
[ -s "$P/.quickboot/qemu.pid" ] || fail "up never recorded its QEMU"
qemu=$(cat "$P/.quickboot/qemu.pid")
expect_fail 1 "\`quickboot up\` is still running for $P (pid $up)" -- qb clean
kill -9 "$up"; wait "$up" 2>/dev/null || true
[ -S "$(find "$P/.quickboot/tmp" -name qmp.sock | head -1)" ] || fail "expected the crashed run's sockets"
qb clean >"$T/o" 2>&1 || { cat "$T/o"; fail "clean failed"; }
for _ in $(seq 20); do kill -0 "$qemu" 2>/dev/null || break; sleep 0.1; done
kill -0 "$qemu" 2>/dev/null && fail "QEMU $qemu still running after clean"
[ ! -e "$P/.quickboot" ] || fail ".quickboot left: $(find "$P/.quickboot")"
pgrep -f "qemu-system.*$P/" >/dev/null && fail "a QEMU of this project is still running"
manifest "$P/rootfs" | cmp -s - "$T/rootfs.before" || fail "clean changed the rootfs"
manifest "$QUICKBOOT_HOME/kernels" | cmp -s - "$T/store.before" || fail "clean changed the store"

# 2. A QEMU whose quickboot is gone (as if it escaped its parent-death signal): stopped,
#    since its arguments name this project's runtime directory.
mkdir -p "$P/.quickboot/tmp/quickboot-vm.fake"
setsid qemu-system-x86_64 -nodefaults -display none -S -machine none \
  -qmp "unix:$P/.quickboot/tmp/quickboot-vm.fake/qmp.sock,server=on,wait=off" </dev/null >/dev/null 2>&1 &
orphan=$!
sleep 30 & decoy=$!
echo "$decoy" > "$P/.quickboot/qemu.pid"   # not a QEMU: must not be killed
for _ in $(seq 50); do [ -S "$P/.quickboot/tmp/quickboot-vm.fake/qmp.sock" ] && break; sleep 0.1; done
qb --json clean >"$T/j" 2>"$T/e" || { cat "$T/e"; fail "clean (orphan) failed"; }
grep -q "\"killed\": \[" "$T/j" && grep -qw "$orphan" "$T/j" || { cat "$T/j"; fail "orphan QEMU not reported killed"; }
sleep 0.3
kill -0 "$orphan" 2>/dev/null && { kill -9 "$orphan"; fail "orphan QEMU survived clean"; }
kill -0 "$decoy" 2>/dev/null || fail "clean killed a process that is not this project's QEMU"
kill "$decoy"
[ ! -e "$P/.quickboot" ] || fail ".quickboot left after the second clean"

# 3. Nothing to do: says so.
qb clean >"$T/o" 2>&1 || fail "clean on a clean project failed"
grep -q "nothing to clean" "$T/o" || { cat "$T/o"; fail "no 'nothing to clean'"; }
manifest "$P/rootfs" | cmp -s - "$T/rootfs.before" || fail "rootfs changed"
echo PASS
