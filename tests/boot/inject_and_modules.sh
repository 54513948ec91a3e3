#!/usr/bin/env bash
# --inject shares a host directory; a rootfs without the kernel's modules still gets
# them (read-only, with a modules.dep) so modprobe works.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
make_rootfs "$T/root"
mkdir -p "$T/project"
echo "hello from the host" > "$T/project/README"
out=$(qb -q run "$T/root" --inject "$T/project:/root/project:ro" --timeout 120 -- cat /root/project/README)
[ "$out" = "hello from the host" ] || fail "inject not visible: '$out'"
rc=0; qb -q run "$T/root" --inject "$T/project:/root/project:ro" --timeout 120 -- sh -c 'echo x > /root/project/new' 2>/dev/null || rc=$?
[ "$rc" -ne 0 ] && [ ! -e "$T/project/new" ] || fail "a :ro inject was writable"

[ ! -e "$T/root/lib/modules" ] || fail "fixture unexpectedly has modules"
out=$(qb -q run "$T/root" --timeout 120 -- sh -c 'modprobe dummy && grep -o "^dummy" /proc/modules')
[ "$out" = "dummy" ] || fail "modprobe in a rootfs without modules failed: '$out'"

# A --writable boot leaves the empty mount point /lib/modules/<release> in the host
# tree; the next boot must still share the modules.
qb -q run "$T/root" --writable --timeout 120 -- true
out=$(qb -q run "$T/root" --timeout 120 -- sh -c 'modprobe dummy && grep -o "^dummy" /proc/modules')
[ "$out" = "dummy" ] || fail "modprobe failed after a --writable boot left an empty mount point: '$out'"
echo PASS
