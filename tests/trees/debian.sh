#!/usr/bin/env bash
# Real Debian trees for the tests and benches, built once per machine by debootstrap and
# cached (they take minutes; every later run reuses them):
#
#   tests/trees/debian.sh NAME        prints the tree's path, building it first if needed
#
# NAME is one of:
#   systemd-amd64   bookworm minbase + systemd-sysv, udev, dbus, iproute2, procps, kmod
#   minbase-i386    bookworm minbase for i386 (v86)
#   systemd-i386    the systemd set for i386 (v86)
#
# Cache: $QB_TREE_CACHE, default ~/.cache/quickboot/trees. Needs root (debootstrap) and
# the Debian mirror apt is configured with. Concurrent callers wait on a lock; a build
# that is interrupted leaves NAME.tmp, which the next call removes and redoes.
set -euo pipefail
name=${1:?usage: debian.sh NAME (systemd-amd64 | minbase-i386 | systemd-i386)}
here=$(cd "$(dirname "$0")" && pwd)
cache=${QB_TREE_CACHE:-${HOME:-/root}/.cache/quickboot/trees}
systemd_pkgs=systemd-sysv,udev,dbus,iproute2,procps,kmod
case $name in
  systemd-amd64) arch=amd64; include=$systemd_pkgs ;;
  minbase-i386)  arch=i386;  include= ;;
  systemd-i386)  arch=i386;  include=$systemd_pkgs ;;
  *) echo "debian.sh: unknown tree '$name' (systemd-amd64, minbase-i386, systemd-i386)" >&2; exit 2 ;;
esac
out=$cache/$name
[ -f "$out.complete" ] && { echo "$out"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "debian.sh: building $name needs root (debootstrap)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "debian.sh: debootstrap missing: apt-get install debootstrap" >&2; exit 1; }
mkdir -p "$cache"
exec 9>"$cache/.$name.lock"
flock 9
[ -f "$out.complete" ] && { echo "$out"; exit 0; }
mirror=$("$here/../../scripts/debian-mirror.sh")
rm -rf "$out.tmp" "$out" "$out.complete"
echo "debian.sh: building the $name tree with debootstrap (once per machine, a few minutes)" >&2
debootstrap --arch="$arch" --variant=minbase ${include:+--include="$include"} bookworm "$out.tmp" "$mirror" \
  >"$cache/$name.log" 2>&1 || { tail -20 "$cache/$name.log" >&2; exit 1; }
# Root can log in on the console without a password (a test tree, never a real system);
# the apt caches are dropped so the tree is smaller to export.
chroot "$out.tmp" passwd -d root >/dev/null 2>&1 || true
rm -rf "$out.tmp"/var/cache/apt/archives/*.deb "$out.tmp"/var/lib/apt/lists/*_Packages
mv "$out.tmp" "$out"
touch "$out.complete"
echo "$out"
