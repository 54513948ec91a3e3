#!/usr/bin/env bash
# Real boots through the initramfs runtime: /sbin/init reached; a user runtime hook runs;
# a hook replacing mount_handler takes effect; a failing hook powers off with its
# message (exit 3) instead of hanging; v86's 9p_root hook, unchanged, works.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
make_rootfs "$T/root"

# 1. The rootfs's own /sbin/init.
qb -q boot "$T/root" </dev/null >"$T/o" 2>&1 || { cat "$T/o"; fail "boot failed"; }
grep -q "quickboot-example: userspace reached" "$T/o" || { cat "$T/o"; fail "/sbin/init not reached"; }

# 2 + 3. A user hook with output, and one that replaces the mount handler.
mkdir -p "$T/hooks/hooks"
cat > "$T/hooks/hooks/hello" <<'H'
run_hook() {
    echo "hello-from-user-hook cmdline-var=$myvar"
}
H
cat > "$T/hooks/hooks/mymount" <<'H'
run_hook() {
    mount_handler=my_mount_handler
}
my_mount_handler() {
    echo "my-mount-handler-ran on $1"
    mount -t 9p -o trans=virtio,version=9p2000.L,ro host9p "$1"
}
H
qb -q boot "$T/root" --hooks "$T/hooks" --hook hello --hook mymount --append myvar=42 </dev/null >"$T/o" 2>&1 ||
  { cat "$T/o"; fail "boot with user hooks failed"; }
grep -q "hello-from-user-hook cmdline-var=42" "$T/o" || { cat "$T/o"; fail "user hook output not seen"; }
grep -q "my-mount-handler-ran on /new_root" "$T/o" || { cat "$T/o"; fail "mount_handler override not used"; }
grep -q "quickboot-example: userspace reached" "$T/o" || { cat "$T/o"; fail "init not reached after custom mount"; }

# 4. A failing hook: exit 3 with the hook named; the guest powers off by itself (a run
# that waited for --timeout would exit 124 instead).
cat > "$T/hooks/hooks/failing" <<'H'
run_hook() {
    echo "about to fail"
    return 7
}
H
rc=0
qb run "$T/root" --hooks "$T/hooks" --hook failing --timeout 300 -- true >"$T/o" 2>"$T/e" || rc=$?
[ "$rc" -eq 3 ] || { cat "$T/e"; fail "a failing hook gave exit $rc, not 3"; }
grep -q "hook 'failing' failed (status 7)" "$T/e" || { cat "$T/e"; fail "failure message does not name the hook"; }

# 5. The 9p_root hook exactly as v86's Arch guide writes it (mount without options).
mkdir -p "$T/seed/hooks" "$T/seed/install"
cat > "$T/seed/hooks/9p_root" <<'H'
run_hook() {
    mount_handler="mount_9p_root"
}

mount_9p_root() {
    msg ":: mounting '$root' on real root (9p)"
    # Note the host9p. We won't mount /dev/sda1 on root anymore, 
    # instead we mount the network filesystem and the emulator will
    # retrieve the files on the fly.
    if ! mount -t 9p host9p "$1"; then
        echo "You are now being dropped into an emergency shell."
        launch_interactive_shell
        msg "Trying to continue (this will most likely fail) ..."
    fi
}
H
cat > "$T/seed/install/9p_root" <<'H'
#!/bin/bash
build() {
	add_runscript
}
H
out=$(qb -q run "$T/root" --hooks "$T/seed" --timeout 300 -- sh -c 'grep " /qb/lower " /proc/mounts >/dev/null 2>&1; cat /etc/motd')
[ "$out" = "quickboot example rootfs" ] || fail "boot through the seed's 9p_root hook failed: '$out'"
echo PASS
