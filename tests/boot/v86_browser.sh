#!/usr/bin/env bash
# A real Debian bookworm i386 tree (debootstrap minbase, cached per machine) in the
# browser, as a new user gets there: `kernel add` of Debian's 686 kernel into a clean
# QUICKBOOT_HOME, `export --kernel`, `quickboot serve`, then headless Chromium (Debian's
# chromium, driven by puppeteer-core) opens the page and real v86 boots the tree over
# 9p to a marker printed by the tree's own init, with zero failed requests.
# The cached tree stays untouched: the test exports a copy that has its own /sbin/init.
source "$(dirname "$0")/../common.inc"
source "$QB_SOURCE_DIR/tests/cli/serve.inc"
for t in node npm; do command -v $t >/dev/null || { [ -n "${CI:-}" ] && fail "$t missing in CI"; skip "$t not installed"; }; done
[ -x /usr/bin/chromium ] || { [ -n "${CI:-}" ] && fail "chromium missing in CI"; skip "chromium not installed"; }
modules=$(bash "$QB_SOURCE_DIR/tests/v86/install_puppeteer.sh")
bash "$QB_SOURCE_DIR/tests/v86/install_v86.sh" >/dev/null   # into the download cache, where export looks
tree=$("$QB_SOURCE_DIR/tests/trees/debian.sh" minbase-i386)
[ ! -e "$tree/sbin/init" ] || fail "the minbase tree unexpectedly has /sbin/init"

cp -a "$tree" "$T/tree"
cat >"$T/tree/sbin/init" <<'INIT'
#!/bin/sh
# This test's init, run by the tree's own dash: proves the Debian userland runs in v86.
mount -t proc proc /proc 2>/dev/null
msg="quickboot-v86-browser: Debian $(cat /etc/debian_version) on $(uname -m), $(ls /usr/bin | wc -l) programs in /usr/bin"
echo "$msg" >/dev/ttyS0
echo "$msg"
exec /bin/sh
INIT
chmod 755 "$T/tree/sbin/init"

qb -q kernel add "$(debian_deb 686)" >/dev/null
kid=$(qb --json kernel list | python3 -c 'import json,sys; print([k for k in json.load(sys.stdin) if k["arch"]=="i686"][0]["id"])')
qb export "$T/tree" --out "$T/site" --kernel "$kid" 2>"$T/export.log" || { cat "$T/export.log"; fail "export --kernel failed"; }
grep -q "no /sbin/init" "$T/export.log" && fail "the copy's /sbin/init was not seen"
start_serve "$T/site"
nice node "$QB_SOURCE_DIR/tests/v86/browser_boot.mjs" "$modules" "$URL" "quickboot-v86-browser: Debian 12" 1500 \
  "$T/chromium" "$T/serial" >"$T/stats.json" || {
  cat "$T/stats.json"; tail -c 3000 "$T/serial"; fail "the Debian tree did not boot to its init in Chromium"; }
cat "$T/stats.json"
python3 - "$T/stats.json" <<'PY' || fail "bad request statistics"
import json, sys
s = json.load(open(sys.argv[1]))
assert not s["failed"], s["failed"]
assert s["blob_responses"] > 0, "no blob was fetched"
PY
grep -q "quickboot-v86-browser: Debian 12\.[0-9]* on i686" "$T/serial" || fail "the marker lacks the Debian version"
stop_serve
grep -q "(0 client errors, 0 server errors" "$T/serve.err" || { cat "$T/serve.err"; fail "the server saw failed requests"; }
echo PASS
