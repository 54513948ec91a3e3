#!/usr/bin/env bash
# Arch's default HOOKS line, (base udev autodetect microcode modconf kms keyboard keymap
# consolefont block filesystems fsck), built by quickboot from the Arch-like tree with
# the real mkinitcpio v41 hooks, boots under QEMU into that tree and runs a command there:
# once with the kernel's own unpacker (--no-snapshot, as every KVM boot) and once the
# default way; then without modconf (whose modprobe.d turns snapshots off) through a
# snapshot save and a snapshot restore. autodetect keeps the modules of quickboot's
# guest devices (about 50 with what block/kms/keyboard add unchecked); the image made
# with --autodetect host (this machine's /sys, as mkinitcpio) boots too.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
KREL=$(qb kernel list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["release"])')
KMODS=$(qb kernel list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["modules"])')
source "$QB_SOURCE_DIR/tests/oracle/arch_tree.inc"
arch_tree_setup
hooks=()
for h in base udev autodetect microcode modconf kms keyboard keymap consolefont block filesystems fsck; do hooks+=(--hook "$h"); done
qb initrd build --rootfs "$ORACLE_ROOT" "${hooks[@]}" -o "$T/default.img" >"$T/b" 2>&1 || { cat "$T/b"; fail "the default HOOKS line does not build"; }
python3 "$QB_SOURCE_DIR/tests/fixtures/cpio_extract.py" "$T/default.img" "$T/x" >/dev/null 2>"$T/lost"
[ -s "$T/lost" ] && { cat "$T/lost"; fail "entries lost when the kernel unpacks the default image"; }
[ -L "$T/x/lib" ] && [ -f "$T/x/lib/modules/$KREL/modules.dep" ] || fail "the default image's /lib/modules is broken"
{ [ -L "$T/x/usr/lib/systemd/systemd-udevd" ] || [ -x "$T/x/usr/lib/systemd/systemd-udevd" ]; } || fail "the udev hook's systemd-udevd is missing"
# autodetect found the guest's devices: the block hook's checked modules are the IDE
# and AHCI drivers of pc and q35, and not every storage driver of the kernel.
mods=$(find "$T/x/lib/modules/$KREL" -name '*.ko*' | sed 's|.*/||; s|\.ko.*||' | sort)
for m in ata_piix ahci 9pnet_virtio; do grep -qx "$m" <<<"$mods" || fail "autodetect: $m (a guest device's driver) is missing"; done
for m in megaraid_sas mpt3sas amdgpu; do ! grep -qx "$m" <<<"$mods" || fail "autodetect: $m (no guest has the device) is in the image"; done
echo "autodetect (guest): $(wc -l <<<"$mods") modules"
for mode in --no-snapshot default; do
  flag=$mode; [ "$mode" = default ] && flag=
  rc=0
  qb -v run "$ORACLE_ROOT" "${hooks[@]}" $flag --memory 1536 --timeout 900 -- sh -c 'echo "in-rootfs: $(. /etc/os-release; echo $ID)"' \
    >"$T/o" 2>"$T/e" </dev/null || rc=$?
  [ "$rc" = 0 ] && grep -q "^in-rootfs: debian$" "$T/o" ||
    { tail -40 "$T/e"; cat "$T/o"; fail "$mode: the default HOOKS image did not boot into the tree (exit $rc)"; }
  grep -q "snapshot" "$T/e" && echo "$mode: $(grep -m1 -i snapshot "$T/e")"
done
# --autodetect host: the tree's own autodetect on this machine's /sys; booted by the
# kernel's own unpacker.
rc=0
qb -v run "$ORACLE_ROOT" "${hooks[@]}" --autodetect host --no-snapshot --memory 1536 --timeout 900 -- sh -c 'echo "in-rootfs: $(. /etc/os-release; echo $ID)"' \
  >"$T/o" 2>"$T/e" </dev/null || rc=$?
[ "$rc" = 0 ] && grep -q "^in-rootfs: debian$" "$T/o" ||
  { tail -40 "$T/e"; cat "$T/o"; fail "--autodetect host: the default HOOKS image did not boot into the tree (exit $rc)"; }
# modconf brings the tree's /etc/modprobe.d, which turns snapshots off (docs/boot.md).
# The same line without it goes through a snapshot: saved on the first boot, restored
# on the second.
hooks=()
for h in base udev autodetect microcode kms keyboard keymap consolefont block filesystems fsck; do hooks+=(--hook "$h"); done
for round in save restore; do
  rc=0
  qb -v run "$ORACLE_ROOT" "${hooks[@]}" --memory 1536 --timeout 900 -- sh -c 'echo "in-rootfs: $(. /etc/os-release; echo $ID)"' \
    >"$T/o" 2>"$T/e" </dev/null || rc=$?
  [ "$rc" = 0 ] && grep -q "^in-rootfs: debian$" "$T/o" ||
    { tail -40 "$T/e"; cat "$T/o"; fail "snapshot $round: the default HOOKS image (without modconf) did not boot (exit $rc)"; }
  grep -q "boot snapshot\|restoring the boot snapshot" "$T/e" || { tail -20 "$T/e"; fail "snapshot $round: no snapshot was used"; }
  echo "snapshot $round: $(grep -m1 'boot snapshot' "$T/e" | sed 's/.*debug: //')"
done
echo PASS
