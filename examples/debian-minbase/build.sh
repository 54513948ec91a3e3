#!/usr/bin/env bash
# A Debian minbase rootfs by debootstrap, then one command in it with quickboot:
#   examples/debian-minbase/build.sh [DIR] [SUITE]      (default: ./debian-rootfs bookworm)
# Needs root (or fakeroot + fakechroot) for debootstrap and a reachable Debian mirror
# ($DEBIAN_MIRROR, default: the mirror apt is configured with). Idempotent: an existing,
# complete rootfs is reused.
set -euo pipefail
dir=${1:-./debian-rootfs}
suite=${2:-bookworm}
mirror=${DEBIAN_MIRROR:-$("$(dirname "$0")/../../scripts/debian-mirror.sh")}
qb=${QUICKBOOT:-quickboot}
command -v debootstrap >/dev/null || { echo "build.sh: debootstrap missing: sudo apt-get install debootstrap" >&2; exit 1; }

if [ ! -x "$dir/sbin/init" ] && [ ! -L "$dir/sbin/init" ]; then
  # minbase: essential packages and apt only (~200 MiB); add what your project needs.
  # systemd-sysv gives /sbin/init for `quickboot boot`; kmod gives modprobe.
  ${SUDO:-} debootstrap --variant=minbase --include=systemd-sysv,kmod,udev "$suite" "$dir" "$mirror"
fi

# The kernel: Debian's own, if the store has none yet.
if ! grep -q '"release"' <<<"$("$qb" kernel list --json)"; then
  "$qb" kernel add "$("$(dirname "$0")/../../kernels/debian.sh" amd64)" --default
fi

# One command, then a full boot to systemd (Ctrl-a x quits; `poweroff` ends it).
"$qb" run "$dir" -- sh -c '. /etc/os-release; echo "$PRETTY_NAME on $(uname -r)"; dpkg -l | grep -c ^ii'
echo "boot it:  $qb boot $dir --overlay $(cd "$(dirname "$0")/../.." && pwd)/overlays/autologin-serial"
