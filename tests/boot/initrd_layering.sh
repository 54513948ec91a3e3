#!/usr/bin/env bash
# A hook that adds a binary with its libraries: the image still boots when the kernel's
# own unpacker lays it out (--no-snapshot, as every KVM boot) and with a snapshot restore
# (busybox cpio unpacks the hooks' files): /lib/modules is there, the hook's binary runs
# (GNU ls, not the busybox applet of the same name) and the rootfs's init runs.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
make_rootfs "$T/root"
# The hook's binary comes from the rootfs (the system the image is built from).
for f in /usr/bin/ls $(ldd /usr/bin/ls | grep -o '/[^ ]*'); do cp -L --parents "$f" "$T/root"; done
mkdir -p "$T/h/hooks" "$T/h/install"
cat > "$T/h/install/gnuls" <<'H'
build() {
    add_binary /usr/bin/ls
    add_runscript
}
H
cat > "$T/h/hooks/gnuls" <<'H'
run_hook() {
    echo "layering: modules=$(/usr/bin/ls /lib/modules) $(/usr/bin/ls --version | head -n 1)"
}
H
for mode in --no-snapshot --snapshot; do
  flag=$mode; [ "$mode" = --snapshot ] && flag=
  rc=0
  qb boot "$T/root" --hooks "$T/h" --hook gnuls $flag </dev/null >"$T/o" 2>"$T/e" || rc=$?
  [ "$rc" = 0 ] || { cat "$T/o" "$T/e"; fail "$mode: boot with a binary-adding hook failed (exit $rc)"; }
  grep -q "layering: modules=[0-9].* ls (GNU coreutils)" "$T/o" "$T/e" ||
    { cat "$T/o" "$T/e"; fail "$mode: the hook's binary did not run or /lib/modules is missing"; }
  grep -q "quickboot-example: userspace reached" "$T/o" || { cat "$T/o" "$T/e"; fail "$mode: the rootfs's init did not run"; }
done
echo PASS
