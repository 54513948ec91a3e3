#!/usr/bin/env bash
# Builds a tiny busybox rootfs: examples/busybox-rootfs.sh DIR [i386]
# /sbin/init prints "quickboot-example: userspace reached", shows the kernel, and
# powers off (or starts a shell when booted with `quickboot boot` on a terminal and
# the kernel command line has `shell`).
set -euo pipefail
dir=${1:?usage: busybox-rootfs.sh DIR [i386]}
arch=${2:-amd64}
if [ "$arch" = i386 ]; then bb=$("$(dirname "$0")/../kernels/busybox.sh" i386); else bb=/bin/busybox; fi
[ -x "$bb" ] || { echo "busybox-rootfs.sh: $bb missing; apt-get install busybox-static" >&2; exit 1; }
mkdir -p "$dir"/{bin,sbin,etc,proc,sys,dev,run,tmp,root,usr/bin,usr/sbin}
cp "$bb" "$dir/bin/busybox"
for a in $("$bb" --list); do
  [ "$a" = busybox ] && continue
  ln -sf busybox "$dir/bin/$a"
done
cat > "$dir/sbin/init" <<'EOS'
#!/bin/sh
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sys /sys 2>/dev/null
echo "quickboot-example: userspace reached on $(uname -r) ($(uname -m))"
if grep -qw shell /proc/cmdline; then
  setsid sh -c 'exec sh </dev/console >/dev/console 2>&1'
fi
poweroff -f
EOS
chmod 755 "$dir/sbin/init"
echo "root:x:0:0:root:/root:/bin/sh" > "$dir/etc/passwd"
echo "root:x:0:" > "$dir/etc/group"
echo "quickboot example rootfs" > "$dir/etc/motd"
