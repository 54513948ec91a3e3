#!/usr/bin/env bash
# Bad rootfs and kernel input a distribution tree can bring: each a clear error or a
# working fallback, never a hang (timeouts here are hang guards only).
#   - /sbin/init is a script for /bin/sh, and /bin/sh is missing or not executable
#   - /lib/modules is a dangling symlink (the store's modules cannot be mounted there)
#   - the kernel's modules tree has no modules.order
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
make_rootfs "$T/root"

# /bin/sh missing, then present but not executable: exit 3 naming the interpreter,
# on both boot paths; `run -- sh` is 127, other programs still run.
for variant in missing noexec; do
  rm -rf "$T/nosh" && cp -a "$T/root" "$T/nosh"
  rm "$T/nosh/bin/sh"
  [ $variant = noexec ] && printf 'not a program\n' >"$T/nosh/bin/sh" && chmod 644 "$T/nosh/bin/sh"
  for mode in "" --no-snapshot; do
    expect_fail 3 "init '/sbin/init' is a script for '/bin/sh', which is not an executable in the root filesystem" -- \
      timeout 600 "$QUICKBOOT" boot "$T/nosh" $mode
  done
  rc=0; timeout 600 "$QUICKBOOT" -q run "$T/nosh" --timeout 300 -- sh -c true 2>"$T/e" || rc=$?
  [ "$rc" -eq 127 ] && grep -q "sh: command not found in the root filesystem" "$T/e" ||
    { cat "$T/e"; fail "run -- sh with /bin/sh $variant gave $rc"; }
  out=$(timeout 600 "$QUICKBOOT" -q run "$T/nosh" --timeout 300 -- busybox echo still-works) || fail "run without a shell ($variant)"
  [ "$out" = still-works ] || fail "run without a shell printed '$out'"
done

# A dangling /lib/modules symlink: refused before QEMU starts, naming the link.
rm -rf "$T/badmods" && cp -a "$T/root" "$T/badmods"
mkdir -p "$T/badmods/lib" && ln -s /nonexistent/modules "$T/badmods/lib/modules"
expect_fail 1 "$T/badmods/lib/modules is a symlink to /nonexistent/modules, which does not exist in the rootfs" -- \
  qb run "$T/badmods" --timeout 300 -- true
grep -q "remove or fix the symlink" "$T/err" || fail "no hint for the dangling symlink"
# A symlink that resolves inside the rootfs is fine (merged /usr style).
rm "$T/badmods/lib/modules" && mkdir -p "$T/badmods/usr/lib/modules" && ln -s ../usr/lib/modules "$T/badmods/lib/modules"
out=$(timeout 600 "$QUICKBOOT" -q run "$T/badmods" --timeout 300 -- sh -c 'modprobe dummy && lsmod') ||
  fail "run with /lib/modules -> ../usr/lib/modules failed"
grep -q "^dummy " <<<"$out" || { echo "$out"; fail "modprobe through the symlinked /lib/modules"; }

# A modules tree without modules.order (a hand-built kernel, a trimmed package): the
# kernel is added, indexed, and modules load.
entry=$(dirname "$(qb --json kernel list | jq -r '.[] | select(.default) | .modules')")
rel=$(qb --json kernel list | jq -r '.[] | select(.default) | .release')
mkdir -p "$T/mods/lib/modules"
cp -al "$entry/modules" "$T/mods/lib/modules/$rel" 2>/dev/null || cp -a "$entry/modules" "$T/mods/lib/modules/$rel"
rm -f "$T/mods/lib/modules/$rel/modules.order" "$T/mods/lib/modules/$rel"/modules.*.bin "$T/mods/lib/modules/$rel/modules.dep"
export QUICKBOOT_HOME="$T/home"
qb -q kernel add "$entry/bzImage" --modules "$T/mods/lib/modules/$rel" >/dev/null || fail "kernel add without modules.order"
mods=$(qb --json kernel list | jq -r '.[0].modules')
[ ! -e "$mods/modules.order" ] && [ -s "$mods/modules.dep.bin" ] || fail "no indexes for a tree without modules.order"
out=$(timeout 600 "$QUICKBOOT" -q run "$T/root" --timeout 300 -- sh -c 'modprobe dummy && lsmod') ||
  fail "run with a kernel lacking modules.order failed"
grep -q "^dummy " <<<"$out" || { echo "$out"; fail "modprobe dummy with a kernel lacking modules.order"; }
echo PASS
