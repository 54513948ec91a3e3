#!/usr/bin/env bash
# A project built from nothing: `quickboot up -- CMD` runs rootfs.command (a busybox
# rootfs script), builds the initramfs with the project's hook and boots; the marker
# shows. A second `up` does not rebuild; touching an input does. quickboot.local.toml
# and --variant change the boot; the kernel can be named by store id.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
P="$T/proj"
mkdir -p "$P/initcpio/hooks" "$P/src"
cat > "$P/quickboot.toml" <<EOF
[rootfs]
dir = "build/rootfs"
command = "bash '$QB_SOURCE_DIR/examples/busybox-rootfs.sh' build/rootfs && cp src/marker build/rootfs/etc/marker"
inputs = ["src/**"]

[initrd]
hook_dirs = ["initcpio"]
hooks = ["hello"]

[boot]
append = ["projvar=base"]

[variant.big.boot]
memory = 768
EOF
cat > "$P/initcpio/hooks/hello" <<'H'
run_hook() { echo "project-hook-ran projvar=$projvar"; }
H
echo "marker-v1" > "$P/src/marker"
cd "$P"

show='cat /etc/marker; for w in $(cat /proc/cmdline); do case $w in projvar=*) echo $w;; esac; done'
qb up -- sh -c "$show" >"$T/o" 2>"$T/e" || { cat "$T/e"; fail "first up failed"; }
grep -qx "marker-v1" "$T/o" || { cat "$T/o" "$T/e"; fail "marker not shown"; }
grep -qx "projvar=base" "$T/o" || { cat "$T/o"; fail "append not applied"; }
grep -q "rebuilding the rootfs" "$T/e" || fail "rootfs command did not run"
[ -f "$P/.quickboot/rootfs.stamp" ] || fail "no stamp"
[ ! -e "$P/.quickboot/up.pid" ] || fail "up.pid left after a clean exit"
[ -z "$(ls -A "$P/.quickboot/tmp" 2>/dev/null)" ] || fail "runtime files left after a clean exit"

# The hook runs in the initramfs: its line is on the console (-v shows it).
qb -v up -- true >/dev/null 2>"$T/e" || { cat "$T/e"; fail "up -v failed"; }
grep -q "project-hook-ran projvar=base" "$T/e" || { cat "$T/e"; fail "project hook did not run"; }
! grep -q "rebuilding the rootfs" "$T/e" || fail "rootfs rebuilt although nothing changed"

# An input newer than the last build: the command reruns.
sleep 1
echo "marker-v2" > "$P/src/marker"
qb up -- cat /etc/marker >"$T/o" 2>"$T/e" || { cat "$T/e"; fail "up after edit failed"; }
grep -qx "marker-v2" "$T/o" || { cat "$T/o" "$T/e"; fail "edited input did not rebuild the rootfs"; }

# quickboot.local.toml overrides key by key; the variant on top.
printf '[boot]\nappend = ["projvar=local"]\n' > "$P/quickboot.local.toml"
qb up -- sh -c "$show" >"$T/o" 2>"$T/e" || { cat "$T/e"; fail "up with local failed"; }
grep -qx "projvar=local" "$T/o" || { cat "$T/o"; fail "quickboot.local.toml did not change the boot"; }
grep -qx "marker-v2" "$T/o" || { cat "$T/o"; fail "local file lost the base keys"; }
qb up --variant big -- sh -c 'grep MemTotal /proc/meminfo' >"$T/o" 2>"$T/e" || { cat "$T/e"; fail "variant failed"; }
kb=$(awk '{print $2}' "$T/o")
[ "$kb" -gt 600000 ] || fail "variant big did not raise memory: $kb kB"

# The kernel named by store id; a run's exit status passes through.
id=$(qb --json kernel list | sed -n 's/.*"id": "\(.*\)".*/\1/p' | head -1)
[ -n "$id" ] || fail "no kernel id in the shared store"
printf 'kernel = "%s"\n[boot]\nappend = ["projvar=local"]\n' "$id" > "$P/quickboot.local.toml"
rc=0
qb up -- sh -c 'exit 7' >/dev/null 2>"$T/e" || rc=$?
[ "$rc" -eq 7 ] || { cat "$T/e"; fail "exit status $rc, not 7"; }
echo PASS
