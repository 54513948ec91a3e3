#!/usr/bin/env bash
# The autodetect hook keeps the modules of quickboot's guest devices, not the host's
# (src/initramfs/guest_devices.cpp lists them). Checked against real guests: on the pc
# and q35 machines, with the user network, every device the guest's /sys shows (read as
# mkinitcpio's autodetect reads it: the MODALIAS= and DRIVER= lines of every uevent)
# resolves, by the guest's own `modprobe -R`, to loadable modules that an image built
# with autodetect keeps. A new QEMU or a new device in quickboot's machines fails here
# until the list is updated.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
use_systemd_tree
mods_dir=$(qb --json kernel list | jq -r '.[] | select(.default) | .modules')

# autodetect (any hook of that name: quickboot gives it the guest's devices), then a hook
# asking for every module of the kernel, checked: what is left is the autodetected set.
mkdir -p "$T/hooks/install"
# (its own build() would add `dummy`: the mark that it ran)
printf 'build() {\n    add_module dummy\n}\n' >"$T/hooks/install/autodetect"
printf 'build() {\n    add_checked_modules "/"\n}\n' >"$T/hooks/install/everything"
qb initrd build --hooks "$T/hooks" --hook autodetect --hook everything -o "$T/a.img" >/dev/null 2>"$T/a.err" ||
  { cat "$T/a.err"; fail "the autodetect build failed"; }
# image_modules IMG: the names of the module files in an image, unpacked as the kernel does.
image_modules() {
  rm -rf "$T/x"; python3 "$QB_SOURCE_DIR/tests/fixtures/cpio_extract.py" "$1" "$T/x" >/dev/null
  find "$T/x" -name '*.ko*' | sed 's|.*/||; s|\.ko.*||; s|-|_|g' | sort -u
}
image_modules "$T/a.img" >"$T/kept"
! grep -qx dummy "$T/kept" || fail "the autodetect hook's own build() ran (it reads the host)"
[ "$(wc -l <"$T/kept")" -lt 100 ] || fail "autodetect kept $(wc -l <"$T/kept") modules: not filtered"

# --autodetect host: the hook's own build() runs.
qb initrd build --hooks "$T/hooks" --hook autodetect --autodetect host -o "$T/h.img" >/dev/null 2>"$T/h.err" ||
  { cat "$T/h.err"; fail "--autodetect host failed"; }
image_modules "$T/h.img" | grep -qx dummy || fail "--autodetect host did not run the hook's build()"

for machine in pc q35; do
  out=$(qb -q run "$SYSTEMD_TREE" --machine "$machine" --net user --timeout 900 -- sh -c '
    find /sys/devices -name uevent -exec sort -u {} + | sed -n "s/^\(DRIVER\|MODALIAS\)=//p" | grep -v "^cpu:\|^dmi:" | sort -u |
      while read -r a; do /usr/sbin/modprobe -qR "$a" || true; done | sort -u') ||
    fail "the $machine guest did not list its devices"
  [ -n "$out" ] || fail "the $machine guest resolved no device to a module"
  n=0
  while read -r m; do
    m=${m//-/_}
    # Built-in drivers need no module: only those with a .ko in the kernel's tree count.
    grep -q "/${m}\.ko[^:]*:" <(sed 's/-/_/g' "$mods_dir/modules.dep") || continue
    n=$((n + 1))
    grep -qx "$m" "$T/kept" || fail "$machine: the guest's device needs $m, which autodetect did not keep"
  done <<<"$out"
  [ "$n" -gt 3 ] || fail "$machine: only $n loadable modules resolved from the guest's devices"
  echo "$machine: $n device modules, all kept by autodetect"
done
echo PASS
