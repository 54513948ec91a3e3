#!/usr/bin/env bash
# Firmware named by modules, as mkinitcpio's add_module adds it: every firmware= entry
# of each module in the image (Debian's real e100 names three) is taken from the built
# system's /usr/lib/firmware/updates, then /usr/lib/firmware, compressed or not; a module
# none of whose firmware exists gets one warning; firmware installed later makes the
# cached image a miss.
source "$(dirname "$0")/../common.inc"
use_shared_kernel
members() { rm -rf "$T/x"; python3 "$QB_SOURCE_DIR/tests/fixtures/cpio_extract.py" "$1" "$T/x" | awk '{print $4}'; }

r=$T/root
mkdir -p "$r/usr/lib/firmware/e100" "$r/usr/lib/firmware/updates/e100"
echo base-m >"$r/usr/lib/firmware/e100/d101m_ucode.bin"
echo updated-m >"$r/usr/lib/firmware/updates/e100/d101m_ucode.bin"
echo zst-e >"$r/usr/lib/firmware/e100/d102e_ucode.bin.zst"
qb initrd build --rootfs "$r" --module e100 -o "$T/a.img" 2>"$T/a.err" || { cat "$T/a.err"; fail "build failed"; }
m=$(members "$T/a.img")
grep -qx "usr/lib/firmware/updates/e100/d101m_ucode.bin" <<<"$m" || { echo "$m" | grep firmware; fail "updates/ was not preferred"; }
grep -qx "usr/lib/firmware/e100/d101m_ucode.bin" <<<"$m" && fail "the firmware in updates/ did not win over the base copy"
grep -qx "usr/lib/firmware/e100/d102e_ucode.bin.zst" <<<"$m" || { echo "$m" | grep firmware; fail "the compressed firmware was not added"; }
[ "$(cat "$T/x/usr/lib/firmware/updates/e100/d101m_ucode.bin")" = updated-m ] || fail "wrong firmware content"
grep -q "possibly missing firmware" "$T/a.err" && { cat "$T/a.err"; fail "warned although e100's firmware was found"; }

# Installed later: the cached image is rebuilt with it.
echo s >"$r/usr/lib/firmware/e100/d101s_ucode.bin"
qb --json initrd build --rootfs "$r" --module e100 -o "$T/b.img" >"$T/b.json"
python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["cached"])' "$T/b.json" || fail "new firmware in the rootfs was a cache hit"
grep -qx "usr/lib/firmware/e100/d101s_ucode.bin" <<<"$(members "$T/b.img")" || fail "the firmware installed later is missing"

# None of it there: one warning naming the module; the build still succeeds.
mkdir -p "$T/bare/usr/lib"
qb initrd build --rootfs "$T/bare" --module e100 -o "$T/c.img" 2>"$T/c.err" || { cat "$T/c.err"; fail "build failed without firmware"; }
grep -q "possibly missing firmware for 1 module .*: e100" "$T/c.err" || { cat "$T/c.err"; fail "no warning for the missing firmware"; }
grep -q firmware <<<"$(members "$T/c.img")" && fail "firmware directories without firmware"
echo PASS
