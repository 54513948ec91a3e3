#!/usr/bin/env bash
# Module names as mkinitcpio's add_module takes them, on Debian's real kernel: an alias
# brings every module that provides it (modinfo lists them all), the modules a module
# requests by name at run time come with it (fat: its default codepage and charset),
# an optional alias the kernel lacks is left out, a wrong name is a clear error.
source "$(dirname "$0")/../common.inc"
use_shared_kernel
# has JSON MODULE: the build's module list (read whole: grep -q must not cut a pipe short)
has() { python3 -c 'import json,sys; sys.exit(sys.argv[2] not in json.load(open(sys.argv[1]))["modules"])' "$1" "$2"; }
mods() { python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["modules"]))' "$1"; }

qb --json initrd build --no-cache --module vfat -o "$T/a.img" >"$T/a.json"
for m in vfat fat nls_cp437 nls_ascii; do has "$T/a.json" "$m" || fail "--module vfat: $m missing ($(mods "$T/a.json"))"; done

qb --json initrd build --no-cache --module sha256 -o "$T/b.img" >"$T/b.json"
has "$T/b.json" sha256_ssse3 || fail "--module sha256 (an alias) did not bring sha256_ssse3"

mkdir -p "$T/h/install"
printf 'build() {\n    add_module "no-such-alias-xyz?"\n    add_module "crypto-crc32c?"\n}\n' >"$T/h/install/opt"
qb --json initrd build --no-cache --hooks "$T/h" --hook opt -o "$T/c.img" >"$T/c.json" 2>"$T/c.err" ||
  { cat "$T/c.err"; fail "an optional alias the kernel lacks failed the build"; }
[[ " $(mods "$T/c.json") " == *crc32c* ]] || fail "the optional alias crypto-crc32c brought no module"

expect_fail 1 "module 'no-such-alias-xyz' not found" -- qb initrd build --module no-such-alias-xyz -o "$T/d.img"
echo PASS
