#!/usr/bin/env bash
# Sets everything up and runs every test: unit tests (also under ASan+UBSan), CLI tests
# and real-QEMU boot tests. Pass ctest arguments to narrow it, e.g. `-L cli` or `-R kernel`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# Real kernels every test shares, fetched once with apt-get download (kernels/debian.sh).
kernels/debian.sh amd64 >/dev/null
kernels/debian.sh 686 >/dev/null

# Real Debian trees (debootstrap, cached per machine) for the distro and v86 tests.
for tree in systemd-amd64 minbase-i386 systemd-i386; do tests/trees/debian.sh "$tree" >/dev/null; done

# Unit tests under the sanitizers, in their own build tree.
# Only the unit-test binaries: the CLI and boot tests run against ./build.
cmake -S . -B build-san -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DQB_SANITIZE="address;undefined" >/dev/null
mapfile -t unit_targets < <(cmake --build build-san --target help | sed -n 's/^\(test_[a-z0-9_]*\):.*/\1/p')
cmake --build build-san --target "${unit_targets[@]}"
(cd build-san && ctest --output-on-failure -L unit "$@")

# Fuzz targets (libFuzzer, ASan + UBSan, clang), each for a fixed 25 s from its seed
# corpus: under 5 minutes in all. A longer run: tests/fuzz/run.sh 600 (tests/fuzz/README.md).
bash tests/fuzz/run.sh 25

(cd build && ctest --output-on-failure "$@")
