#!/usr/bin/env bash
# Caches a static busybox for a foreign architecture (i386, for i686 kernels and v86),
# taken from Debian's busybox-static package with `apt-get download`; prints its path.
#   kernels/busybox.sh [i386]
set -euo pipefail
arch=${1:-i386}
dl=${QUICKBOOT_DOWNLOADS:-${XDG_CACHE_HOME:-$HOME/.cache}/quickboot/downloads}
out="$dl/busybox-$arch"
if [ -x "$out/busybox" ]; then echo "$out/busybox"; exit 0; fi
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
if ! dpkg --print-foreign-architectures | grep -qx "$arch" && [ "$arch" != "$(dpkg --print-architecture)" ]; then
  $sudo dpkg --add-architecture "$arch"
  $sudo apt-get update -qq || true
fi
mkdir -p "$dl"
tmp=$(mktemp -d "$dl/.busybox.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q "busybox-static:$arch" >&2)
dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/x"
mkdir -p "$tmp/out"
cp "$tmp/x/bin/busybox" "$tmp/out/busybox"
rm -rf "$out"
mv "$tmp/out" "$out"
echo "$out/busybox"
