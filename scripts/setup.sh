#!/usr/bin/env bash
# Installs quickboot's build and run-time dependencies (Debian packages only) and
# configures + builds into ./build. Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git
  libarchive-dev liblz4-dev libzstd-dev liblzma-dev zlib1g-dev liburing-dev libcli11-dev libfmt-dev catch2
  libssl-dev libkmod-dev nlohmann-json3-dev libtomlplusplus-dev libsquashfs-dev libcpp-httplib-dev
  qemu-system-x86 busybox-static kmod  # kmod: depmod indexes the store's modules
  # tests and benches: real packages, ISOs, cpio reference, debootstrap trees, v86 under Node
  xorriso cpio zstd lz4 debootstrap seabios dpkg-dev file jq hyperfine time ccache
  curl wrk chromium
  # fuzzing (tests/fuzz): clang with libFuzzer and the sanitizer runtimes
  clang-14 libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# v86 under Node and the browser tests install npm packages (v86, puppeteer-core) into a
# cache; a machine that already has node and npm (from anywhere) keeps them.
command -v npm >/dev/null || missing+=(nodejs npm)
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build_type=${QB_BUILD_TYPE:-RelWithDebInfo}
# ccache: rebuilds in other worktrees and build types reuse compiled objects.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$build_type" -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
cmake --build build
