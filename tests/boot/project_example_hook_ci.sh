#!/usr/bin/env bash
# examples/hook-test-ci/test.sh passes, and examples/controller-project boots with its hook.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
QUICKBOOT="$QUICKBOOT" bash "$QB_SOURCE_DIR/examples/hook-test-ci/test.sh" || fail "hook-test-ci example failed"

# The controller project, copied so the source tree stays clean.
cp -r "$QB_SOURCE_DIR/examples/controller-project" "$T/cp"
cp "$QB_SOURCE_DIR/examples/busybox-rootfs.sh" "$T/"
cd "$T/cp"
qb -v up -- sh -c 'cat /etc/issue; ls /root/project' >"$T/o" 2>"$T/e" || { cat "$T/e"; fail "controller-project up failed"; }
grep -q "controller: greeting is hello" "$T/e" || { cat "$T/e"; fail "controller hook output missing"; }
grep -qx "controller-project rootfs" "$T/o" || { cat "$T/o"; fail "rootfs-extra not in the rootfs"; }
grep -qx "quickboot.toml" "$T/o" || { cat "$T/o"; fail "project not injected at /root/project"; }
qb clean >/dev/null 2>&1
[ ! -e "$T/cp/.quickboot" ] || fail "clean left .quickboot"
echo PASS
