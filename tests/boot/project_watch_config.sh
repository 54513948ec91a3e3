#!/usr/bin/env bash
# `quickboot up -w`: a change of quickboot.toml restarts the loop with the new settings;
# a broken quickboot.toml is reported and waited on, not fatal; SIGINT ends everything.
source "$(dirname "$0")/../common.inc"
need_qemu
use_shared_kernel
P="$T/proj"
mkdir -p "$P"
make_rootfs "$P/rootfs"
cat > "$P/quickboot.toml" <<'EOF2'
rootfs = "rootfs"
[boot]
append = ["projvar=one"]
EOF2
cd "$P"

wait_for() {
  for _ in $(seq 1 $(( ${3:-120} * 5 ))); do grep -q -- "$1" "$2" 2>/dev/null && return 0; sleep 0.2; done
  echo "--- $2:"; cat "$2"; fail "timed out waiting for '$1'"
}

show='for w in $(cat /proc/cmdline); do case $w in projvar=*) echo $w;; esac; done'
"$QUICKBOOT" up -w -- sh -c "$show" >"$T/out" 2>"$T/err" &
pid=$!
wait_for "projvar=one" "$T/out"

sed -i 's/projvar=one/projvar=two/' quickboot.toml
wait_for "quickboot.toml changed -> restarting with the new configuration" "$T/err"
wait_for "projvar=two" "$T/out"

# A typo: reported with file and line, the loop waits; the fix restarts it.
printf 'rootfs = "rootfs"\n[boot]\nappend = ["projvar=three"]\nmemroy = 1\n' > quickboot.toml
wait_for "memroy: unknown key" "$T/err"
kill -0 "$pid" 2>/dev/null || { cat "$T/err"; fail "up -w ended on a config error"; }
printf 'rootfs = "rootfs"\n[boot]\nappend = ["projvar=three"]\n' > quickboot.toml
wait_for "projvar=three" "$T/out"

kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 130 ] || { cat "$T/err"; fail "expected 130 after SIGINT, got $rc"; }
! pgrep -f "qemu-system.*$P" >/dev/null || fail "QEMU left running"
[ -z "$(ls -A "$P/.quickboot/tmp" 2>/dev/null)" ] || fail "runtime files left: $(ls -A "$P/.quickboot/tmp")"
echo PASS
