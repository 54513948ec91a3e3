#!/usr/bin/env bash
# Fetches Debian's current kernel package with `apt-get download` and prints its path.
#   kernels/debian.sh [amd64|686]
# The version is resolved from the metapackage (linux-image-amd64 / linux-image-686) so
# every test and bench uses the same real kernel. Cached in $QUICKBOOT_DOWNLOADS
# (default ~/.cache/quickboot/downloads); a second call does not touch the network.
set -euo pipefail
flavour=${1:-amd64}
case "$flavour" in
  amd64) meta=linux-image-amd64; arch=amd64 ;;
  686) meta=linux-image-686; arch=i386 ;;
  *) echo "kernels/debian.sh: unknown flavour '$flavour' (amd64 or 686)" >&2; exit 2 ;;
esac
dl=${QUICKBOOT_DOWNLOADS:-${XDG_CACHE_HOME:-$HOME/.cache}/quickboot/downloads}
mkdir -p "$dl"

sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
if [ "$arch" = i386 ] && ! dpkg --print-foreign-architectures | grep -qx i386; then
  $sudo dpkg --add-architecture i386
  $sudo apt-get update -qq || true
fi

# linux-image-amd64 depends on linux-image-<release>-amd64 (or its -unsigned twin).
resolve() {
  apt-cache depends "$meta:$arch" 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'
}
pkg=$(resolve)
if [ -z "$pkg" ]; then
  $sudo apt-get update -qq || true
  pkg=$(resolve)
fi
[ -n "$pkg" ] || { echo "kernels/debian.sh: cannot resolve $meta for $arch; check apt sources" >&2; exit 1; }
pkg=${pkg%:*}
existing=$(ls "$dl"/"${pkg}"_*_"$arch".deb 2>/dev/null | tail -n1 || true)
if [ -n "$existing" ]; then echo "$existing"; exit 0; fi
(cd "$dl" && apt-get download -q "$pkg:$arch" >&2)
ls "$dl"/"${pkg}"_*_"$arch".deb | tail -n1
