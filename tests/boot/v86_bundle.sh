#!/usr/bin/env bash
# The v86 bundle boots in the real v86 emulator under Node: an i686 busybox rootfs,
# exported with --kernel (Debian's 686 kernel), once with plain and once with zstd
# blobs; the rootfs's init prints a marker on the serial console.
source "$(dirname "$0")/../common.inc"
command -v node >/dev/null || { [ -n "${CI:-}" ] && fail "node missing in CI"; skip "node not installed"; }
[ -f /usr/share/seabios/bios.bin ] || fail "seabios missing (apt-get install seabios)"
pkg=$(bash "$QB_SOURCE_DIR/tests/v86/install_v86.sh")
export QUICKBOOT_V86_DIR="$pkg"
"$QB_SOURCE_DIR/kernels/busybox.sh" i386 >/dev/null
use_shared_kernel 686
make_rootfs "$T/root" i386
kid=$(qb --json kernel list | python3 -c 'import json,sys; print([k for k in json.load(sys.stdin) if k["arch"]=="i686"][0]["id"])')

qb -q export "$T/root" --out "$T/plain" --kernel "$kid"
for f in bzImage initrd.img index.html fs.json v86/libv86.js v86/v86.wasm; do [ -e "$T/plain/$f" ] || fail "bundle lacks $f"; done
node "$QB_SOURCE_DIR/tests/v86/boot_bundle.mjs" "$pkg" "$T/plain" "quickboot-example: userspace reached" ||
  fail "the plain bundle did not boot in v86"

qb -q export "$T/root" --out "$T/zstd" --zstd --kernel "$kid"
compgen -G "$T/zstd/*.bin.zst" >/dev/null || fail "no zstd blobs"
node "$QB_SOURCE_DIR/tests/v86/boot_bundle.mjs" "$pkg" "$T/zstd" "quickboot-example: userspace reached" ||
  fail "the zstd bundle did not boot in v86"

# An x86_64 kernel is refused before anything is written.
use_shared_kernel
expect_fail 1 "v86 emulates a 32-bit x86 CPU" -- qb export "$T/root" --out "$T/nope" --kernel "$(qb --json kernel list | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
[ ! -e "$T/nope" ] || fail "a refused bundle left output behind"
echo PASS
