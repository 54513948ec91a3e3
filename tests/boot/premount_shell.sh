#!/usr/bin/env bash
# break=premount gives a shell on the serial console that answers a command, and the
# boot continues after `exit`.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
make_rootfs "$T/root"
mkfifo "$T/in"
qb -q boot "$T/root" --append break=premount <"$T/in" >"$T/o" 2>&1 &
pid=$!
exec 3>"$T/in"
for _ in $(seq 1 600); do grep -q "pre-mount break requested" "$T/o" && break; sleep 0.2; done
grep -q "pre-mount break requested" "$T/o" || { kill $pid; cat "$T/o"; fail "no pre-mount shell"; }
sleep 1
echo 'echo "answer-$((6*7))"' >&3
for _ in $(seq 1 300); do grep -q "answer-42" "$T/o" && break; sleep 0.2; done
echo exit >&3
wait $pid || { cat "$T/o"; fail "boot after the break failed"; }
exec 3>&-
grep -q "answer-42" "$T/o" || { cat "$T/o"; fail "the shell did not answer"; }
grep -q "quickboot-example: userspace reached" "$T/o" || { cat "$T/o"; fail "boot did not continue after exit"; }
echo PASS
