#!/usr/bin/env bash
# A rootfs someone else made cannot run code or read host files through the image
# build (issue 15 items 2, 5 and 12): its /usr/lib/initcpio/install/9p_root and
# quickboot never replace quickboot's own hooks; its paths resolve inside it (absolute
# symlinks re-rooted, `..` stopping at its root); hooks write into $BUILDROOT, not the
# host's /etc; an install hook with a syntax error fails the build naming the file and
# line; --add HOST:../../x is refused.
source "$(dirname "$0")/../common.inc"
use_shared_kernel
R=$T/rootfs
mkdir -p "$R/usr/lib/initcpio/install" "$R/usr/lib/initcpio/hooks" "$R/etc/initcpio/install" "$T/hostsecret"
for h in 9p_root quickboot; do
  printf 'build() {\n    touch %q\n}\n' "$T/pwned-$h" > "$R/usr/lib/initcpio/install/$h"
  printf 'run_hook() { echo pwned; }\n' > "$R/usr/lib/initcpio/hooks/$h"
done

# 1. No hook named: the rootfs's 9p_root and quickboot are not run and not packed.
qb -q initrd build --rootfs "$R" -o "$T/a.img"
for h in 9p_root quickboot; do [ ! -e "$T/pwned-$h" ] || fail "the rootfs's install/$h ran on the host"; done
python3 "$QB_SOURCE_DIR/tests/fixtures/cpio_extract.py" "$T/a.img" "$T/a" >/dev/null
cmp -s "$T/a/hooks/9p_root" "$QB_SOURCE_DIR/initrd/hooks/9p_root" || fail "the rootfs's hooks/9p_root replaced quickboot's"
# Naming it changes nothing: quickboot's own hook is the one used.
qb -q initrd build --rootfs "$R" --hook 9p_root -o "$T/a2.img"
[ ! -e "$T/pwned-9p_root" ] || fail "the rootfs's install/9p_root ran when named"

# 2. Paths of a hook the user names resolve inside the rootfs.
echo HOST-SECRET > "$T/hostsecret/secret"
mkdir -p "$R$T/hostsecret" && echo rootfs-file > "$R$T/hostsecret/secret"
ln -s "$T/hostsecret" "$R/abs"                 # absolute: the rootfs's $T/hostsecret
ln -s "../../../../../../../../$T/hostsecret" "$R/up"   # climbs: stops at the rootfs's root
ln -s "$T/hostsecret/secret" "$R/filelink"
cat > "$R/etc/initcpio/install/leak" <<HOOK
build() {
    add_file /abs/secret /s1
    add_file /up/secret /s2
    add_file /../../../../../..$T/hostsecret/secret /s3
    add_file /filelink /s4
    add_symlink /lnk /abs
    add_dir /made
    echo from-buildroot > "\$BUILDROOT/etc/qb-hostile-test"
}
HOOK
qb -q initrd build --rootfs "$R" --hook leak -o "$T/b.img"
python3 "$QB_SOURCE_DIR/tests/fixtures/cpio_extract.py" "$T/b.img" "$T/b" >/dev/null
# A symlink source is a link in the image too, to the file at its own path.
[ "$(readlink "$T/b/s4")" = "$T/hostsecret/secret" ] || fail "/s4 is not the rootfs's link"
[ "$(cat "$T/b$T/hostsecret/secret")" = rootfs-file ] || fail "the target of /s4 came from outside the rootfs"
for f in s1 s2 s3; do
  [ "$(cat "$T/b/$f")" = rootfs-file ] || fail "/$f came from outside the rootfs: $(cat "$T/b/$f")"
done
[ "$(readlink "$T/b/lnk")" = "$T/hostsecret" ] || fail "add_symlink target resolved outside the rootfs: $(readlink "$T/b/lnk")"
[ ! -e /etc/qb-hostile-test ] || { rm -f /etc/qb-hostile-test; fail "a hook's \$BUILDROOT write reached the host's /etc"; }
[ "$(cat "$T/b/etc/qb-hostile-test")" = from-buildroot ] || fail "a file written to \$BUILDROOT is not in the image"
# A file missing in the rootfs but present on the host is missing.
rm "$R$T/hostsecret/secret"
expect_fail 1 "install hook 'leak' ($R/etc/initcpio/install/leak:2): file not found: /abs/secret (in $R)" -- qb initrd build --rootfs "$R" --hook leak -o "$T/c.img"

# 3. An install hook with a syntax error fails the build, naming the file and line.
printf 'build() {\n    add_dir /x\n    if then\n}\n' > "$R/etc/initcpio/install/broken"
expect_fail 1 "install hook 'broken' ($R/etc/initcpio/install/broken) cannot be read" -- \
  qb initrd build --rootfs "$R" --hook broken -o "$T/d.img"
grep -q "broken: line 3: syntax error" "$T/err" || { cat "$T/err"; fail "the syntax error's line is not shown"; }
# Extglob patterns, which mkinitcpio's environment enables, are not syntax errors.
printf 'build() {\n    case x in @(a|x)) add_dir /extglob-ok;; esac\n}\n' > "$R/etc/initcpio/install/eglob"
qb -q initrd build --rootfs "$R" --hook eglob -o "$T/e.img"
python3 "$QB_SOURCE_DIR/tests/fixtures/cpio_extract.py" "$T/e.img" "$T/e" >/dev/null
[ -d "$T/e/extglob-ok" ] || fail "an extglob pattern in build() did not run"

# 4. --add with `..` in the image path is refused; the output is not written.
echo x > "$T/x"
expect_fail 1 "the image path ../../x has a '..' component" -- qb initrd build --add "$T/x:../../x" -o "$T/f.img"
expect_fail 1 "has a '..' component" -- qb initrd build --add "$T/x:/etc/../../x" -o "$T/f.img"
[ ! -e "$T/f.img" ] || fail "an image was written despite the bad --add"
echo PASS
