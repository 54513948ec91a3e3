#!/usr/bin/env bash
# The image unpacked with the kernel's own rules (tests/fixtures/cpio_extract.py) is a
# working tree when install hooks add binaries: the base archive's /lib, /bin, /lib64
# links survive the overlay archive (a directory entry would replace them and take
# /lib/modules with them), the libraries land where those links point, and the added
# binary runs in the unpacked tree (chroot, when root).
source "$(dirname "$0")/../common.inc"
use_shared_kernel
release=$(qb kernel list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["release"])')
mkdir -p "$T/h/install"
cat > "$T/h/install/tools" <<'EOF2'
build() {
    add_binary /usr/bin/ls
    add_binary /usr/sbin/ldconfig
    add_dir /lib/modprobe.d
    add_file /etc/hostname /lib/qb-test/hostname
}
EOF2
qb -q initrd build --hooks "$T/h" --hook tools -o "$T/i.img"
python3 "$QB_SOURCE_DIR/tests/fixtures/cpio_extract.py" "$T/i.img" "$T/x" >"$T/list" 2>"$T/lost"
[ -s "$T/lost" ] && { cat "$T/lost"; fail "entries lost on extraction (missing parent directory)"; }
for l in bin sbin lib lib64 usr/sbin; do
  [ -L "$T/x/$l" ] || fail "/$l is no longer a symlink after the kernel's unpacking"
done
[ -f "$T/x/lib/modules/$release/modules.dep" ] || fail "/lib/modules/$release/modules.dep is gone"
grep -Eq '^40[0-7]+ 0 0 (lib|lib64|bin|sbin|usr/sbin)(/|$)' "$T/list" &&
  { grep -E '^40[0-7]+ 0 0 (lib|lib64|bin|sbin|usr/sbin)(/|$)' "$T/list"; fail "a directory entry under a base symlink"; }
[ -x "$T/x/usr/bin/ls" ] || fail "add_binary /usr/bin/ls missing"
[ -f "$T/x/usr/lib/qb-test/hostname" ] || fail "add_file through /lib did not land in /usr/lib"
[ -d "$T/x/usr/lib/modprobe.d" ] || fail "add_dir /lib/modprobe.d did not land in /usr/lib"
if [ "$(id -u)" = 0 ]; then
  out=$(chroot "$T/x" /usr/bin/ls /lib/modules) || fail "the added binary does not run in the unpacked tree"
  [ "$out" = "$release" ] || fail "ls /lib/modules in the unpacked tree printed '$out'"
  chroot "$T/x" /bin/ldconfig --version >/dev/null || fail "ldconfig (added from /usr/sbin) does not run"
fi

echo PASS
