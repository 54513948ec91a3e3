#!/usr/bin/env bash
# The real mkinitcpio v41 as the oracle: each of its 30 install hooks, and Arch's default
# HOOKS line, is built by mkinitcpio and by quickboot in the same Arch-like tree, with
# the same kernel modules. What each hook adds (its build minus an empty build) is
# compared: file names, types, symlink targets, contents of non-module files, module sets.
# Prints the table hook | mkinitcpio | quickboot | difference (details in $ORACLE_LOG,
# default build/initcpio-oracle.log). Fails when quickboot fails a hook mkinitcpio builds,
# unless docs/initcpio-compat.md lists it, and when the default HOOKS line does not build.
source "$(dirname "$0")/../common.inc"
export LC_ALL=C
use_shared_kernel
KREL=$(qb kernel list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["release"])')
KMODS=$(qb kernel list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["modules"])')
source "$QB_SOURCE_DIR/tests/oracle/arch_tree.inc"
arch_tree_setup
LOG=${ORACLE_LOG:-${QB_BINARY_DIR:-$T}/initcpio-oracle.log}
: >"$LOG"

qb_build() {  # qb_build OUT HOOK...: quickboot's image of the same tree, unpacked as the kernel does
  local out=$1 args=(); shift
  for h in "$@"; do args+=(--hook "$h"); done
  rm -rf "$T/$out"
  qb initrd build --rootfs "$ORACLE_ROOT" "${args[@]}" -o "$T/$out.img" >"$T/$out.log" 2>&1 || return 1
  python3 "$QB_SOURCE_DIR/tests/fixtures/cpio_extract.py" "$T/$out.img" "$T/$out" >/dev/null 2>>"$T/$out.log"
}
# The baseline: an image of one hook that adds nothing (mkinitcpio needs one).
printf 'build() {\n    :\n}\n' >"$ORACLE_ROOT/usr/lib/initcpio/install/qbnull"
mkinitcpio_build mk-empty qbnull || fail "mkinitcpio cannot build an empty image: $(cat "$ORACLE_ROOT/tmp/mk-empty.log")"
qb_build qb-empty qbnull || fail "quickboot cannot build an empty image: $(cat "$T/qb-empty.log")"
tree_list "$ORACLE_ROOT/tmp/mk-empty" >"$T/mk-empty.list"
tree_list "$T/qb-empty" >"$T/qb-empty.list"

compare() {  # compare NAME HOOK...: one table row
  local name=$1; shift
  local mk qb diff
  if mkinitcpio_build mk "$@"; then mk=ok; else mk="fail"; fi
  grep -q "ERROR" "$ORACLE_ROOT/tmp/mk.log" && [ "$mk" = ok ] && mk="errors"
  if qb_build qb "$@"; then qb=ok; else qb="fail: $(grep -m1 'error' "$T/qb.log" | sed 's/.*error: //; s/install hook .* (.*) //' | cut -c1-50)"; fi
  diff=-
  if [ -d "$ORACLE_ROOT/tmp/mk" ] && [ "$qb" = ok ]; then
    tree_list "$ORACLE_ROOT/tmp/mk" >"$T/mk.full"
    tree_list "$T/qb" >"$T/qb.full"
    diff=$(python3 "$QB_SOURCE_DIR/tests/oracle/compare.py" "$T/mk-empty.list" "$T/mk.full" "$T/qb-empty.list" "$T/qb.full" 2>"$T/detail")
  fi
  { echo "== $name: mkinitcpio $mk, quickboot $qb, $diff"; cat "$T/detail" 2>/dev/null || true
    [ "$mk" = ok ] || tail -5 "$ORACLE_ROOT/tmp/mk.log"; [ "${qb%%:*}" = ok ] || tail -5 "$T/qb.log"; } >>"$LOG"
  rm -f "$T/detail"
  printf '| %-16s | %-9s | %-40s | %s\n' "$name" "$mk" "$qb" "$diff"
  ROW_MK=$mk ROW_QB=$qb
}

printf '| %-16s | %-9s | %-40s | %s\n' hook mkinitcpio quickboot "difference (what the hook adds)"
bad=()
for f in "$MKINITCPIO_FIXTURE"/install/*; do
  h=${f##*/}
  compare "$h" "$h"
  if [ "$ROW_MK" = ok ] && [ "${ROW_QB%%:*}" != ok ] && ! grep -q "^| \`$h\` .*| known |" "$QB_SOURCE_DIR/docs/initcpio-compat.md" 2>/dev/null; then
    bad+=("$h")
  fi
done
compare default base udev autodetect microcode modconf kms keyboard keymap consolefont block filesystems fsck
[ "${ROW_QB%%:*}" = ok ] || bad+=("the default HOOKS line")
# The row above differs by design: quickboot's autodetect keeps the guest's devices'
# modules and sees a 9p root, where mkinitcpio's fails in the chroot (no /sys) and keeps
# every module. Without autodetect both keep every module: that row compares like with like.
compare default-no-autodetect base udev microcode modconf kms keyboard keymap consolefont block filesystems fsck
[ "${ROW_QB%%:*}" = ok ] || bad+=("the default HOOKS line without autodetect")
# add_module's firmware (modinfo firmware=; Debian's e100 names three): both take the
# same files from the same tree, updates/ first, a compressed one as it is.
mkdir -p "$ORACLE_ROOT/usr/lib/firmware/e100" "$ORACLE_ROOT/usr/lib/firmware/updates/e100"
echo base-m >"$ORACLE_ROOT/usr/lib/firmware/e100/d101m_ucode.bin"
echo updated-m >"$ORACLE_ROOT/usr/lib/firmware/updates/e100/d101m_ucode.bin"
echo zst-e >"$ORACLE_ROOT/usr/lib/firmware/e100/d102e_ucode.bin.zst"
printf 'build() {\n    add_module e100\n}\n' >"$ORACLE_ROOT/usr/lib/initcpio/install/qbfirmware"
compare module-firmware qbfirmware
mkfw=$(cd "$ORACLE_ROOT/tmp/mk" 2>/dev/null && find . -path '*firmware*' -type f | sort)
qbfw=$(cd "$T/qb" 2>/dev/null && find . -path '*firmware*' -type f | sort)
[ -n "$mkfw" ] && [ "$mkfw" = "$qbfw" ] || fail "module firmware differs: mkinitcpio [$mkfw] quickboot [$qbfw]"
echo "module firmware, both: $(tr '\n' ' ' <<<"$mkfw")"
echo "details: $LOG"
[ ${#bad[@]} -eq 0 ] || fail "quickboot fails where mkinitcpio builds: ${bad[*]}"
echo PASS
