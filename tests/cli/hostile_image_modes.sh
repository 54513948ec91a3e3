#!/usr/bin/env bash
# Images that hold files others may not read (issue 15, item 12): an initramfs with an
# --add of a 0600 file is written 0600 (the -o output and the cached image), one of
# public files stays 0644. A FIFO as an --add source is an error naming it, not a hang
# (timeout: hang guard only).
source "$(dirname "$0")/../common.inc"
use_shared_kernel
umask 022
echo "root-only secret" >"$T/secret"; chmod 600 "$T/secret"
echo "public" >"$T/public"; chmod 644 "$T/public"
qb -q initrd build --add "$T/secret:/etc/secret" -o "$T/private.img" || fail "build with a private file failed"
[ "$(stat -c %a "$T/private.img")" = 600 ] || fail "image with a 0600 file is $(stat -c %a "$T/private.img")"
qb -q initrd build --add "$T/secret:/etc/secret" --no-cache -o "$T/private2.img" || fail "--no-cache build failed"
[ "$(stat -c %a "$T/private2.img")" = 600 ] || fail "--no-cache image is $(stat -c %a "$T/private2.img")"
# The cache entries holding the secret (this run's or, cached, an earlier one's): none
# readable by others.
checked=0
for f in "$QUICKBOOT_HOME"/initrd/*; do
  case $f in *.json|*/base-*) continue ;; esac
  # Entries are plain or zstd-compressed cpio archives.
  names=$({ zstd -dcq "$f" 2>/dev/null || cat "$f"; } | cpio -it 2>/dev/null || true)
  grep -qx etc/secret <<<"$names" || continue
  checked=$((checked + 1))
  if [ "$(( 0$(stat -c %a "$f") & 4 ))" -ne 0 ]; then
    fail "cached $f holds the secret and is $(stat -c %a "$f")"
  fi
done
[ "$checked" -ge 1 ] || fail "no cache entry of the private build holds etc/secret: the check above saw nothing ($(ls "$QUICKBOOT_HOME"/initrd))"
qb -q initrd build --add "$T/public:/etc/public" -o "$T/public.img" || fail "public build failed"
[ "$(stat -c %a "$T/public.img")" = 644 ] || fail "public image is $(stat -c %a "$T/public.img")"
mkfifo "$T/fifo"
rc=0; timeout 120 "$QUICKBOOT" initrd build --add "$T/fifo:/etc/x" -o "$T/fifo.img" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || { cat "$T/err"; fail "--add of a FIFO: exit $rc (124 = hung)"; }
grep -qF "$T/fifo is a FIFO, not a regular file" "$T/err" || { cat "$T/err"; fail "no clear FIFO error"; }
echo PASS
