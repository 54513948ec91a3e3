#!/usr/bin/env bash
# A hook test for CI: boot a throwaway busybox rootfs with the hook, run one command in
# the guest, and check its output and its exit status. Exit 0 when the hook works.
#   QUICKBOOT=./build/quickboot examples/hook-test-ci/test.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
qb=${QUICKBOOT:-quickboot}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
bash "$here/../busybox-rootfs.sh" "$work/rootfs" >/dev/null

# 1. The hook's effect is visible from the real root.
out=$("$qb" run "$work/rootfs" --hooks "$here/initcpio" --hook mkmotd --append motd=ci-says-hi --timeout 300 \
        -- cat /run/motd-from-initramfs)
[ "$out" = ci-says-hi ] || { echo "FAIL: hook output '$out'" >&2; exit 1; }

# 2. A failing check fails the job: quickboot returns the guest command's own status.
rc=0
"$qb" run "$work/rootfs" --hooks "$here/initcpio" --hook mkmotd --timeout 300 \
  -- test -e /run/motd-from-initramfs || rc=$?
[ "$rc" -eq 1 ] || { echo "FAIL: without motd= the file should be absent (got status $rc)" >&2; exit 1; }
echo "PASS: mkmotd"
