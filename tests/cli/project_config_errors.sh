#!/usr/bin/env bash
# quickboot.toml errors name file, line and key: unknown keys (top level, nested, in a
# variant, in quickboot.local.toml), wrong types, bad values, an unknown variant, a
# syntax error; no project; -C finds a project from elsewhere.
source "$(dirname "$0")/../common.inc"
P="$T/proj"
mkdir -p "$P/rootfs/sub"
cd "$P/rootfs/sub"

expect_fail 1 "no quickboot.toml in $P/rootfs/sub or any directory above it" -- qb up -- true

cfg() { printf "$1" > "$P/quickboot.toml"; }

cfg 'rootfs = "rootfs"\n\n[boot]\nmemroy = 256\n'
expect_fail 1 "error: $P/quickboot.toml:4: boot.memroy: unknown key" -- qb up -- true
grep -qF "hint: known keys in [boot]: " "$T/err" || fail "no hint listing the known keys"

cfg 'rootfs = "rootfs"\nkernal = "x"\n'
expect_fail 1 "error: $P/quickboot.toml:2: kernal: unknown key" -- qb up -- true

cfg 'rootfs = "rootfs"\n[boot]\ncpus = "two"\n'
expect_fail 1 "error: $P/quickboot.toml:3: boot.cpus: expected an integer, got a string" -- qb up -- true

cfg 'rootfs = "rootfs"\n[boot]\nwritable = "yes"\n'
expect_fail 1 "error: $P/quickboot.toml:3: boot.writable: expected a boolean (true or false), got a string" -- qb up -- true

cfg 'rootfs = "rootfs"\noverlays = ["a", 3]\n'
expect_fail 1 "error: $P/quickboot.toml:2: overlays[1]: expected a string, got an integer" -- qb up -- true

cfg 'rootfs = "rootfs"\n[boot]\nmachine = "vax"\n'
expect_fail 1 "error: $P/quickboot.toml:3: boot.machine: 'vax' is not one of: pc, q35, microvm" -- qb up -- true

cfg 'rootfs = "rootfs"\n[rootfs]\n'
expect_fail 1 "$P/quickboot.toml:2" -- qb up -- true

# Variants: every variant is checked, even one not selected.
cfg 'rootfs = "rootfs"\n[variant.debug]\n[variant.debug.boot]\nappend = ["x=1"]\ncpu = 2\n'
expect_fail 1 "error: $P/quickboot.toml:5: boot.cpu: unknown key" -- qb up -- true
cfg 'rootfs = "rootfs"\n\n[variant.debug.boot]\nappend = ["x=1"]\n'
expect_fail 1 "error: $P/quickboot.toml:3: variant.nope: no such variant" -- qb up --variant nope -- true
grep -qF "hint: variants defined: debug" "$T/err" || fail "no hint listing the variants"
cfg 'rootfs = "rootfs"\nvariant = 3\n'
expect_fail 1 "error: $P/quickboot.toml:2: variant: expected a table, got an integer" -- qb up -- true

# quickboot.local.toml is checked the same way, and named.
cfg 'rootfs = "rootfs"\n'
printf '[boot]\n\nmemory = true\n' > "$P/quickboot.local.toml"
expect_fail 1 "error: $P/quickboot.local.toml:3: boot.memory: expected an integer, got a boolean" -- qb up -- true
rm "$P/quickboot.local.toml"

# Syntax errors: file, line and column from the TOML parser.
cfg 'rootfs = "rootfs"\n[boot\n'
expect_fail 1 "error: $P/quickboot.toml:2:" -- qb up -- true

# A kernel that is neither in the store nor a file.
cfg 'rootfs = "rootfs"\nkernel = "no-such-kernel"\n'
expect_fail 1 "kernel = \"no-such-kernel\" is neither a kernel in the store nor a file or directory" -- qb up -- true

# -C finds the project from elsewhere (the kernel error proves it read this config).
cd "$T"
expect_fail 1 "kernel = \"no-such-kernel\"" -- qb up -C "$P/rootfs" -w
echo PASS
