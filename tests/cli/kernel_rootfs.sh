#!/usr/bin/env bash
# A rootfs directory (boot/vmlinuz-R, usr/lib/modules/R with lib -> usr/lib), then the same
# rootfs with two kernels: listed, and --release picks one.
source "$(dirname "$0")/../common.inc"
source "$QB_SOURCE_DIR/tests/fixtures/kernel-fixtures.inc"
deb=$(debian_deb amd64)
make_kernel_rootfs "$deb" "$T/rootfs"
r=$(ls "$T/rootfs/usr/lib/modules")

qb --json kernel add "$T/rootfs" >"$T/add.json"
[ "$(jq -r .release "$T/add.json")" = "$r" ] || fail "release"
[ "$(jq -r .config "$T/add.json")" != null ] || fail "config"
[ "$(jq -r .module_count "$T/add.json")" -gt 1000 ] || fail "module_count"

# A second kernel: the same image with its release string patched, and a small tree.
r2=${r/-[0-9]*-/-99-}
python3 - "$T/rootfs/boot/vmlinuz-$r" "$T/rootfs/boot/vmlinuz-$r2" "$r" "$r2" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
assert len(sys.argv[3]) == len(sys.argv[4])
open(sys.argv[2], 'wb').write(d.replace((sys.argv[3] + ' (').encode(), (sys.argv[4] + ' (').encode(), 1))
PY
mkdir -p "$T/rootfs/usr/lib/modules/$r2/kernel/fs"
cp "$(find "$T/rootfs/usr/lib/modules/$r" -name '*.ko' | head -n1)" "$T/rootfs/usr/lib/modules/$r2/kernel/fs/"
touch "$T/rootfs/usr/lib/modules/$r2/modules.order"

expect_fail 1 "holds several kernels" -- qb kernel add "$T/rootfs"
grep -qF "$r2" "$T/err" && grep -qF "$r " "$T/err" || fail "both releases not listed"
grep -qF -- "--release" "$T/err" || fail "no --release hint"
qb --json kernel add "$T/rootfs" --release "$r2" >"$T/add2.json"
[ "$(jq -r .release "$T/add2.json")" = "$r2" ] || fail "release 2"
[ "$(jq -r .module_count "$T/add2.json")" -eq 1 ] || fail "module_count 2"
[ "$(qb --json kernel list | jq length)" -eq 2 ] || fail "list"
echo ok
