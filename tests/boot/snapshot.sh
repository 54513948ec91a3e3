#!/usr/bin/env bash
# Boot snapshots under TCG: the first boot of a machine saves the guest at the snapshot
# point, later boots restore it; the restored guest has the host's time and fresh
# entropy, runs this boot's own hooks, and a damaged snapshot is replaced, not fatal.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
make_rootfs "$T/root"
snaps="$QUICKBOOT_HOME/snapshots"
# A memory size no other test uses: a machine of its own, so a snapshot of its own.
m=(--memory 400 --timeout 120)
mkdir -p "$T/hooks"
printf 'run_hook() {\n    echo "hook says one"\n}\n' >"$T/hooks/says"
chmod 755 "$T/hooks/says"

# The store is shared with other tests: forget this machine's snapshot, if any, first.
qb -v run "$T/root" "${m[@]}" -- true >"$T/o" 2>"$T/e" || { cat "$T/e"; fail "run failed"; }
old=$(sed -n 's/.*\(restoring the boot snapshot\|boot snapshot saved to\) \(.*\.vmstate\).*/\2/p' "$T/e" | head -1)
[ -n "$old" ] || { cat "$T/e"; fail "no snapshot used or saved"; }
rm -f "$old"
# What a save killed by SIGKILL leaves: removed by the next save (its pid is gone).
head -c 1000 /dev/zero >"$snaps/0000.vmstate.tmp999999-abc"
touch -d '-1 hour' "$snaps/0000.vmstate.tmp999999-abc"

qb -v run "$T/root" "${m[@]}" --hooks "$T/hooks" --hook says -- true >"$T/o" 2>"$T/e" ||
  { cat "$T/e"; fail "first run failed"; }
grep -q "boot snapshot saved to" "$T/e" || { cat "$T/e"; fail "the first boot did not save a snapshot"; }
state=$(sed -n 's/.*boot snapshot saved to \(.*\.vmstate\).*/\1/p' "$T/e" | head -1)
[ -s "$state" ] || fail "snapshot file $state missing"
grep -q "hook says one" "$T/e" || fail "the hook did not run on the first boot"
[ ! -e "$snaps/0000.vmstate.tmp999999-abc" ] || fail "a dead save's temporary file was not removed"
! ls "$snaps" | grep -q '\.tmp' || fail "temporary files left after a save: $(ls "$snaps")"

# Restored: the guest's clock is the host's, not the snapshot's. The guest's reading
# must fall between the host's clock before the run and after it (1 s of rounding
# either side), however long the run takes on a busy machine. The snapshot is at
# least 8 s old by then, so a clock left at the snapshot's time would read before
# the window unless the restored guest took over 7 s to run `date`.
sleep 8
before=$(date +%s)
qb -v run "$T/root" "${m[@]}" --hooks "$T/hooks" --hook says -- date +%s >"$T/o" 2>"$T/e" ||
  { cat "$T/e"; fail "restored run failed"; }
after=$(date +%s)
grep -q "restoring the boot snapshot $state" "$T/e" || { cat "$T/e"; fail "the second boot did not restore $state"; }
guest=$(cat "$T/o")
[ "$guest" -ge $((before - 1)) ] && [ "$guest" -le $((after + 1)) ] ||
  fail "guest clock $guest, host $before..$after: not corrected after restore"

# Each restored guest gets its own randomness.
qb -q run "$T/root" "${m[@]}" -- sh -c 'head -c 16 /dev/urandom | od -An -x' >"$T/r1"
qb -q run "$T/root" "${m[@]}" -- sh -c 'head -c 16 /dev/urandom | od -An -x' >"$T/r2"
[ -s "$T/r1" ] && ! cmp -s "$T/r1" "$T/r2" || fail "two restored guests read the same random bytes: $(cat "$T/r1")"

# A hook edit changes only this boot's files: the same snapshot, the new hook.
printf 'run_hook() {\n    echo "hook says two"\n}\n' >"$T/hooks/says"
qb -v run "$T/root" "${m[@]}" --hooks "$T/hooks" --hook says -- true >"$T/o" 2>"$T/e" || { cat "$T/e"; fail "run after the hook edit failed"; }
grep -q "restoring the boot snapshot $state" "$T/e" || { cat "$T/e"; fail "a hook edit should not need a new snapshot"; }
grep -q "hook says two" "$T/e" || { cat "$T/e"; fail "the edited hook did not run"; }

# Writable and protected boots share the snapshot: the setting arrives after it.
qb -q run "$T/root" "${m[@]}" --writable -- touch /written 2>/dev/null
[ -e "$T/root/written" ] || fail "--writable did not write through on a restored boot"
qb -q run "$T/root" "${m[@]}" -- touch /not-written
[ ! -e "$T/root/not-written" ] || fail "a protected restored boot wrote to the host tree"

# A damaged snapshot: a notice, a boot from scratch, the command's status, a new file.
head -c 100000 "$state" >"$T/cut" && cp "$T/cut" "$state"
rc=0; qb -v run "$T/root" "${m[@]}" -- sh -c 'exit 7' >"$T/o" 2>"$T/e" || rc=$?
[ "$rc" -eq 7 ] || { cat "$T/e"; fail "expected 7 after a damaged snapshot, got $rc"; }
grep -q "could not be restored" "$T/e" || { cat "$T/e"; fail "no notice about the damaged snapshot"; }
[ "$(stat -c %s "$state")" -gt 1000000 ] || fail "the damaged snapshot was not replaced"

# An install hook that adds modprobe.d settings: modules must see them when they load,
# so that boot does not use a snapshot (and the setting works).
mkdir -p "$T/mhooks/hooks" "$T/mhooks/install"
# (add_file sources are paths in the rootfs, as in mkinitcpio's sysroot)
echo 'options dummy numdummies=3' >"$T/root/etc/dummy-modprobe.conf"
printf '#!/bin/bash\nbuild() {\n\tadd_file /etc/dummy-modprobe.conf /etc/modprobe.d/dummy.conf\n}\n' >"$T/mhooks/install/modconf"
qb -v run "$T/root" "${m[@]}" --hooks "$T/mhooks" --hook modconf -- true >"$T/o" 2>"$T/e" || { cat "$T/e"; fail "modprobe.d hook run failed"; }
grep -q "no boot snapshot: the initramfs adds modprobe.d settings" "$T/e" || { cat "$T/e"; fail "a modprobe.d hook still used a snapshot"; }
! grep -q "restoring the boot snapshot\|boot snapshot saved" "$T/e" || fail "a modprobe.d hook used a snapshot"

# --no-snapshot boots from scratch and saves nothing.
before=$(ls "$snaps" | wc -l)
qb -v run "$T/root" --memory 416 --timeout 120 --no-snapshot -- true >"$T/o" 2>"$T/e" || { cat "$T/e"; fail "--no-snapshot run failed"; }
! grep -q "boot snapshot" "$T/e" || fail "--no-snapshot used a snapshot"
[ "$(ls "$snaps" | wc -l)" -eq "$before" ] || fail "--no-snapshot saved a snapshot"
echo PASS
