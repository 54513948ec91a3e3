#!/usr/bin/env bash
# Modules load in a real distribution as on hardware: the store's modules tree carries
# the indexes libkmod reads (modules.dep.bin, modules.alias.bin, ...), so the Debian
# tree's own kmod modprobe loads `dummy`, and under `run --boot --net user` udev loads
# virtio_net by itself (it is not in the initramfs) and systemd-networkd gets an
# address and a default route. The tree has no /lib/modules: the store's are shared.
# Both with the boot snapshot and with --no-snapshot. An old store entry without the
# indexes gets them on its next boot, with a notice.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
use_systemd_tree
rel=$(qb --json kernel list | jq -r '.[] | select(.default) | .release')
[ ! -e "$SYSTEMD_TREE/lib/modules/$rel" ] || skip "the systemd tree has its own modules for $rel; this test needs the store's"
mods=$(qb --json kernel list | jq -r '.[] | select(.default) | .modules')
for f in modules.dep modules.dep.bin modules.alias.bin modules.symbols.bin modules.builtin.bin modules.softdep; do
  [ -s "$mods/$f" ] || [ "$f" = modules.softdep ] || fail "the store's modules tree lacks $f"
done

# systemd-networkd with DHCP on the virtio NIC, given as an overlay (the tree is shared).
mkdir -p "$T/net/etc/systemd/network" "$T/net/etc/systemd/system/multi-user.target.wants"
printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n' >"$T/net/etc/systemd/network/50-quickboot.network"
ln -s /lib/systemd/system/systemd-networkd.service "$T/net/etc/systemd/system/multi-user.target.wants/"

for mode in "" --no-snapshot; do
  out=$(timeout 900 "$QUICKBOOT" -q run "$SYSTEMD_TREE" $mode --timeout 600 -- sh -c \
    '/usr/sbin/modprobe dummy && lsmod') || fail "modprobe dummy failed ($mode)"
  grep -q "^dummy " <<<"$out" || { echo "$out"; fail "dummy not loaded by the tree's modprobe ($mode)"; }

  out=$(timeout 1800 "$QUICKBOOT" -q run "$SYSTEMD_TREE" --boot --net user --overlay "$T/net" $mode --timeout 1500 -- sh -c \
    'for i in $(seq 1 900); do ip route | grep -q "^default" && break; sleep 1; done; ip -4 -o addr show; ip route; lsmod') ||
    { echo "$out"; fail "run --boot --net user failed ($mode)"; }
  grep -q "^virtio_net " <<<"$out" || { echo "$out"; fail "udev did not load virtio_net ($mode)"; }
  grep -q "inet 10\.0\.2\.15/" <<<"$out" || { echo "$out"; fail "no DHCP address ($mode)"; }
  grep -q "^default via 10\.0\.2\.2 " <<<"$out" || { echo "$out"; fail "no default route ($mode)"; }
done

# An entry from before the indexes: they are written on its next boot, with a notice.
export QUICKBOOT_HOME="$T/home"
mkdir -p "$QUICKBOOT_HOME/kernels"
src=$(dirname "$mods")
cp -al "$src" "$QUICKBOOT_HOME/kernels/" 2>/dev/null || cp -a "$src" "$QUICKBOOT_HOME/kernels/"
id=$(basename "$src")
rm -f "$QUICKBOOT_HOME/kernels/$id/modules/modules."*.bin "$QUICKBOOT_HOME/kernels/$id/modules/modules.dep"
# meta.json stores paths relative to the entry: the copy is a complete entry, the only one.
out=$(timeout 900 "$QUICKBOOT" run "$SYSTEMD_TREE" --timeout 600 -- sh -c '/usr/sbin/modprobe dummy && lsmod' 2>"$T/e") ||
  { cat "$T/e"; fail "boot with an old entry failed"; }
grep -q "writing the module indexes" "$T/e" || { cat "$T/e"; fail "no notice for the old entry's indexes"; }
grep -q "^dummy " <<<"$out" || { echo "$out"; fail "dummy not loaded with lazily written indexes"; }
[ -s "$QUICKBOOT_HOME/kernels/$id/modules/modules.dep.bin" ] || fail "the indexes were not stored with the kernel"
echo PASS
