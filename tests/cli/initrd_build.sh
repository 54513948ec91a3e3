#!/usr/bin/env bash
# `quickboot initrd build`: contents, determinism, cache, and every bad input with a
# clear error (the previous image untouched).
source "$(dirname "$0")/../common.inc"
use_shared_kernel

# Contents: busybox, runtime, hooks (executable), modules decompressed, modules.dep.
qb --json initrd build -o "$T/a.img" >"$T/a.json"
grep -q '"9p"' "$T/a.json" || fail "9p missing from the module list: $(cat "$T/a.json")"
mkdir "$T/x" && python3 "$QB_SOURCE_DIR/tests/fixtures/cpio_extract.py" "$T/a.img" "$T/x" >"$T/list"
for f in init init_functions usr/bin/busybox config; do [ -e "$T/x/$f" ] || fail "image lacks /$f"; done
rel=$(ls "$T/x/usr/lib/modules")
grep -q "kernel/fs/9p/9p.ko:" "$T/x/usr/lib/modules/$rel/modules.dep" || fail "modules.dep lacks 9p"
awk '$2!=0 || $3!=0 {bad=1} END {exit bad}' "$T/list" || fail "an entry is not owned by 0:0"
grep -q "^100755 0 0 hooks/9p_root$" "$T/list" || fail "hooks are not written executable"

# Same inputs, byte-identical image, also without the cache.
qb -q initrd build --no-cache -o "$T/b.img"
qb -q initrd build --no-cache -o "$T/c.img"
cmp -s "$T/b.img" "$T/c.img" || fail "two builds of the same inputs differ"
cmp -s "$T/a.img" "$T/b.img" || fail "cached and uncached builds differ"
grep -q '"cached": true' <<<"$(qb --json initrd build -o "$T/d.img")" || fail "a repeated build was not cached"

# A hook change rebuilds; each compression is accepted by its decoder.
mkdir -p "$T/hooks/hooks"
printf 'run_hook() {\n    echo hello %s\n}\n' "$T" > "$T/hooks/hooks/hello"
grep -q '"cached": false' <<<"$(qb --json initrd build --hooks "$T/hooks" --hook hello -o "$T/e.img")" || fail "new hook did not rebuild"
printf 'run_hook() {\n    echo changed %s\n}\n' "$T" > "$T/hooks/hooks/hello"
grep -q '"cached": false' <<<"$(qb --json initrd build --hooks "$T/hooks" --hook hello -o "$T/e.img")" || fail "edited hook did not rebuild"
# (Archives are zero-padded to 4 bytes, which the kernel skips but the CLI decoders
# do not: check the magic here; tests/boot/compression.sh boots them.)
magic() { head -c4 "$1" | od -An -tx1 | tr -d ' \n'; }
qb -q initrd build --compress zstd -o "$T/z.img"; [ "$(magic "$T/z.img")" = 28b52ffd ] || fail "zstd magic"
qb -q initrd build --compress gzip -o "$T/g.img"; [ "$(magic "$T/g.img" | cut -c1-4)" = 1f8b ] || fail "gzip magic"
qb -q initrd build --compress lz4 -o "$T/l.img"; [ "$(magic "$T/l.img")" = 02214c18 ] || fail "lz4 legacy magic"

# Bad input. Each: exit 1, a message naming the thing, the previous image intact.
cp "$T/a.img" "$T/keep.img"
expect_fail 1 "unknown hook 'nosuchhook'" -- qb initrd build --hook nosuchhook -o "$T/keep.img"
grep -q "hooks/nosuchhook" "$T/err" || fail "unknown hook error does not say where it looked"
printf 'run_hook() {\n    if then fi\n}\n' > "$T/hooks/hooks/broken"
expect_fail 1 "runtime hook $T/hooks/hooks/broken has a shell syntax error" -- qb initrd build --hooks "$T/hooks" --hook broken -o "$T/keep.img"
expect_fail 1 "module 'no_such_module' not found" -- qb initrd build --module no_such_module -o "$T/keep.img"
expect_fail 1 "is dynamically linked" -- env QUICKBOOT_BUSYBOX_X86_64=/bin/ls "$QUICKBOOT" initrd build --no-cache -o "$T/keep.img"
expect_fail 1 "cannot create a file in /proc" -- qb initrd build -o /proc/quickboot.img
expect_fail 1 "does not exist" -- qb initrd build --add /no/such:/etc/x -o "$T/keep.img"
cmp -s "$T/a.img" "$T/keep.img" || fail "a failed build touched the previous image"
ls "$T" | grep -q '\.tmp\.' && fail "a failed build left a temporary file"

# A module built for another kernel release.
home686="${QB_BINARY_DIR:-$T}/test-home-686"
use_shared_kernel 686
foreign=$(find "$QUICKBOOT_HOME/kernels" -path '*/kernel/drivers/net/dummy.ko*' | head -n1)
use_shared_kernel
mkdir -p "$T/home" && cp -al "$QUICKBOOT_HOME/kernels" "$T/home/kernels"
export QUICKBOOT_HOME="$T/home"
entry=$(ls -d "$T"/home/kernels/*/ | head -n1)
mkdir -p "$entry/modules/kernel/extra"
cp "$foreign" "$entry/modules/kernel/extra/foreign_dummy.ko"
expect_fail 1 "was built for kernel" -- qb initrd build --module foreign_dummy -o "$T/keep.img"
echo PASS
