#!/usr/bin/env bash
# `quickboot clean` in a project someone else made (issue 15, item 1): the project's
# .quickboot/up.pid and qemu.pid are data, not instructions. clean removes only what
# quickboot itself creates (its state directory, its runtime directory) and kills only a
# QEMU of this user whose arguments name this project's runtime directory.
source "$(dirname "$0")/../common.inc"
P="$T/proj"
mkdir -p "$P/.quickboot" "$T/victim/sub"
echo precious >"$T/victim/sub/file"
printf 'rootfs = "rootfs"\n' >"$P/quickboot.toml"

# 1. up.pid names a directory outside the project as the runtime directory.
printf '999999\n%s\n' "$T/victim" >"$P/.quickboot/up.pid"
qb clean -C "$P" >"$T/o" 2>&1 || { cat "$T/o"; fail "clean failed"; }
[ -f "$T/victim/sub/file" ] || fail "clean removed the directory up.pid named: $(cat "$T/o")"
[ ! -e "$P/.quickboot" ] || fail ".quickboot not removed"

# 2. A process that looks like this project's QEMU by name but whose arguments name the
#    directory from up.pid (not the project's runtime directory): not killed.
mkdir -p "$P/.quickboot"
# argv[0] qemu-system-x86_64, an argument naming the victim directory.
bash -c 'exec -a qemu-system-x86_64 python3 -c "import time; time.sleep(300)" "$1"' _ "$T/victim/x" &
decoy=$!
for _ in $(seq 50); do grep -q qemu-system "/proc/$decoy/cmdline" 2>/dev/null && break; sleep 0.1; done
printf '%s\n%s\n' "$$" "$T/victim" >"$P/.quickboot/up.pid"   # a live pid, not quickboot
echo "$decoy" >"$P/.quickboot/qemu.pid"
qb --json clean -C "$P" >"$T/j" 2>"$T/e" || { cat "$T/e"; kill "$decoy"; fail "clean (decoy) failed"; }
sleep 0.2
kill -0 "$decoy" 2>/dev/null || fail "clean killed a QEMU-named process of another directory"
[ "$(jq '.killed | length' "$T/j")" -eq 0 ] || fail "killed reported: $(cat "$T/j")"
[ -f "$T/victim/sub/file" ] || fail "victim removed"
kill "$decoy"; wait "$decoy" 2>/dev/null || true

# 3. .quickboot itself a symlink to a directory outside: the link goes, not its target.
ln -s "$T/victim" "$P/.quickboot"
qb clean -C "$P" >"$T/o" 2>&1 || { cat "$T/o"; fail "clean (symlinked state) failed"; }
[ -f "$T/victim/sub/file" ] || fail "clean followed a symlinked .quickboot"

# 4. .quickboot/tmp a symlink to a directory outside, and the long-path runtime dir name
#    in TMPDIR planted as a symlink: neither target is touched.
mkdir -p "$P/.quickboot"
ln -s "$T/victim" "$P/.quickboot/tmp"
qb clean -C "$P" >"$T/o" 2>&1 || { cat "$T/o"; fail "clean (symlinked tmp) failed"; }
[ -f "$T/victim/sub/file" ] || fail "clean followed .quickboot/tmp"
L="$T/$(printf 'l%.0s' $(seq 90))/proj"
mkdir -p "$L"
printf 'rootfs = "rootfs"\n' >"$L/quickboot.toml"
hash=$(printf '%s' "$L" | sha256sum | cut -c1-12)
mkdir -p "$T/tmpdir"
ln -s "$T/victim" "$T/tmpdir/quickboot-up.$hash"
TMPDIR="$T/tmpdir" qb clean -C "$L" >"$T/o" 2>&1 || { cat "$T/o"; fail "clean (long root) failed"; }
[ -f "$T/victim/sub/file" ] || fail "clean followed a planted runtime symlink"
# A genuine runtime directory of that project (owned by us, a directory) is removed.
rm "$T/tmpdir/quickboot-up.$hash"
mkdir -p "$T/tmpdir/quickboot-up.$hash/quickboot-vm.abc"
TMPDIR="$T/tmpdir" qb clean -C "$L" >"$T/o" 2>&1 || { cat "$T/o"; fail "clean (long root, real dir) failed"; }
[ ! -e "$T/tmpdir/quickboot-up.$hash" ] || fail "the project's own runtime directory was not removed"

# 5. Pid files that are FIFOs: no hang (timeout is only a hang guard).
mkdir -p "$P/.quickboot"
mkfifo "$P/.quickboot/up.pid" "$P/.quickboot/qemu.pid"
timeout 60 "$QUICKBOOT" clean -C "$P" >"$T/o" 2>&1 || { cat "$T/o"; fail "clean with FIFO pid files failed or hung"; }
[ ! -e "$P/.quickboot" ] || fail ".quickboot not removed (FIFOs)"
echo PASS
