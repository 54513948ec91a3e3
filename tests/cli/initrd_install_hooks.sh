#!/usr/bin/env bash
# Install hooks' build(): add_binary brings its shared-library closure, add_file,
# add_dir, add_symlink and add_runscript are honoured, undefined functions warn (as in
# mkinitcpio, add_systemd_unit exists only with the systemd hook), a missing udev rule warns naming the hook (as mkinitcpio, no error); a missing file fails naming the hook file and line; hooks are found in a rootfs's
# /etc/initcpio when listed.
source "$(dirname "$0")/../common.inc"
use_shared_kernel
mkdir -p "$T/h/hooks" "$T/h/install"
echo "hello" > "$T/payload"
cat > "$T/h/install/tools" <<EOF
build() {
    add_binary /usr/bin/ls
    add_file $T/payload /etc/payload 0600
    add_dir /var/empty
    add_symlink /usr/bin/dir /usr/bin/ls
    add_systemd_unit foo.service
    add_runscript
}
EOF
echo 'run_hook() { :; }' > "$T/h/hooks/tools"
qb --json initrd build --no-cache --hooks "$T/h" --hook tools -o "$T/i.img" >"$T/o" 2>"$T/e"
grep -q "add_systemd_unit: command not found" "$T/e" || { cat "$T/e"; fail "no warning for an undefined function (mkinitcpio has no add_systemd_unit outside the systemd hook)"; }
python3 "$QB_SOURCE_DIR/tests/fixtures/cpio_extract.py" "$T/i.img" "$T/x" >"$T/list"
[ -f "$T/x/usr/bin/ls" ] || fail "add_binary did not add the binary"
interp=$(readelf -l /usr/bin/ls | sed -n 's/.*interpreter: \(.*\)]/\1/p')
[ -f "$T/x$interp" ] || fail "add_binary did not add the interpreter $interp"
for lib in $(ldd /usr/bin/ls | awk '/=>/ {print $1}'); do
  find "$T/x" -name "$lib" | grep -q . || fail "add_binary did not add $lib"
done
grep -q "^100600 0 0 etc/payload$" "$T/list" || fail "add_file mode not honoured"
[ -d "$T/x/var/empty" ] || fail "add_dir not honoured"
[ "$(readlink "$T/x/usr/bin/dir")" = /usr/bin/ls ] || fail "add_symlink not honoured"
grep -q "^100755 0 0 hooks/tools$" "$T/list" || fail "add_runscript did not add the hook"

# A hook that exists only in the rootfs's /etc/initcpio/hooks.
mkdir -p "$T/rootfs/etc/initcpio/hooks"
echo 'run_hook() { echo from-rootfs; }' > "$T/rootfs/etc/initcpio/hooks/fromroot"
qb -q initrd build --rootfs "$T/rootfs" --hook fromroot -o "$T/j.img"
python3 "$QB_SOURCE_DIR/tests/fixtures/cpio_extract.py" "$T/j.img" "$T/y" >"$T/list2"
grep -q "hooks/fromroot$" "$T/list2" || fail "a rootfs hook listed in HOOKS was not added"

# mkinitcpio's status rules: build()'s return status and a bare `error` call do not fail
# the build; a failing add_* call does, naming the hook.
printf 'build() {\n    error "just a message"\n    return 1\n}\n' > "$T/h/install/tools"
qb -q initrd build --no-cache --hooks "$T/h" --hook tools -o "$T/k.img" 2>"$T/e" || { cat "$T/e"; fail "build() status 1 failed the build"; }
grep -q "==> ERROR: just a message" "$T/e" || { cat "$T/e"; fail "error's message not shown as mkinitcpio formats it"; }
printf 'build() {\n    add_file - /etc/x <<<data\n    return 0\n}\n' > "$T/h/install/tools"
expect_fail 1 "install hook 'tools' ($T/h/install/tools) reported 1 error(s)" -- qb initrd build --hooks "$T/h" --hook tools -o "$T/k.img"
grep -q "no file mode specified for: '/etc/x'" "$T/err" || { cat "$T/err"; fail "the add_file error is not shown"; }
printf 'build() {\n    echo data | add_file - /etc/x 600\n    add_file /etc/hostname /etc/copied/\n}\n' > "$T/h/install/tools"
qb -q initrd build --hooks "$T/h" --hook tools -o "$T/k.img"
python3 "$QB_SOURCE_DIR/tests/fixtures/cpio_extract.py" "$T/k.img" "$T/k" >"$T/klist"
[ "$(cat "$T/k/etc/x")" = data ] && grep -q "^100600 0 0 etc/x$" "$T/klist" || fail "add_file - (stdin) with a mode"
cmp -s "$T/k/etc/copied/hostname" /etc/hostname || fail "add_file SRC DIR/ did not keep the file name"
printf 'build() {\n    add_udev_rule 60-no-such.rules\n}\n' > "$T/h/install/tools"
qb initrd build --no-cache --hooks "$T/h" --hook tools -o "$T/k.img" 2>"$T/e" >/dev/null
grep -q "install hook 'tools': udev rule 60-no-such.rules not found" "$T/e" || { cat "$T/e"; fail "no warning for a missing udev rule"; }
# A hook that exits the build shell is named.
printf 'build() {\n    exit 4\n}\n' > "$T/h/install/tools"
expect_fail 1 "install hook 'tools' ended the build shell (exit status 4)" -- qb initrd build --hooks "$T/h" --hook tools -o "$T/k.img"
# A hook that never returns (and a child holding the pipes) is stopped after
# --hook-timeout, named, and the previous image stays in place.
cp "$T/k.img" "$T/k.before"
printf 'build() {
    sleep 987654 &
    while :; do :; done
}
' > "$T/h/install/tools"
expect_fail 1 "install hook 'tools' ($T/h/install/tools) did not finish within 2 s and was stopped" -- \
  qb initrd build --hook-timeout 2 --hooks "$T/h" --hook tools -o "$T/k.img"
grep -q -- "--hook-timeout SECONDS allows more time" "$T/err" || { cat "$T/err"; fail "the timeout message does not say how to allow more"; }
cmp -s "$T/k.img" "$T/k.before" || fail "a stopped build changed the previous image"
for _ in $(seq 300); do pgrep -f "sleep 987654" >/dev/null || break; sleep 0.2; done  # hang guard: SIGKILLed, gone once reaped
pgrep -f "sleep 987654" >/dev/null && { pkill -f "sleep 987654"; fail "the hook's child outlived the stopped build"; }

# A missing file is named with the hook, the hook file and the line of the call (also
# through map), and the previous image stays; a hook name that is a path is refused.
printf 'build() {\n    add_binary /usr/bin/ls\n    map add_file /etc/hostname /no/such/qb-file\n}\n' > "$T/h/install/tools"
expect_fail 1 "install hook 'tools' ($T/h/install/tools:3): file not found: /no/such/qb-file" -- \
  qb initrd build --hooks "$T/h" --hook tools -o "$T/k.img"
cmp -s "$T/k.img" "$T/k.before" || fail "a failed build changed the previous image"
for bad in ../tools a/b .. .; do
  expect_fail 1 "invalid hook name '$bad'" -- qb initrd build --hooks "$T/h" --hook "$bad" -o "$T/k.img"
done
echo PASS
