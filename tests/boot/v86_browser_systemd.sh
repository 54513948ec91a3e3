#!/usr/bin/env bash
# A real Debian bookworm i386 tree with systemd (debootstrap, cached per machine) boots
# in real v86 in headless Chromium from `export --kernel` + `quickboot serve`: systemd
# (the tree's own /sbin/init) reaches multi-user.target, `systemctl --failed` lists
# nothing, and modules are loaded from the modules the export added from the store.
# The test's copy of the tree gets one unit that reports on the serial console, through
# the kernel's log (/dev/kmsg): a unit writing to /dev/ttyS0 itself loses its lines
# whenever systemd hangs up that tty (TTYVHangup=) to start the serial getty while the
# unit runs, which is what stalled this test in about one boot out of eight.
source "$(dirname "$0")/../common.inc"
source "$QB_SOURCE_DIR/tests/cli/serve.inc"
for t in node npm; do command -v $t >/dev/null || { [ -n "${CI:-}" ] && fail "$t missing in CI"; skip "$t not installed"; }; done
[ -x /usr/bin/chromium ] || { [ -n "${CI:-}" ] && fail "chromium missing in CI"; skip "chromium not installed"; }
modules=$(bash "$QB_SOURCE_DIR/tests/v86/install_puppeteer.sh")
bash "$QB_SOURCE_DIR/tests/v86/install_v86.sh" >/dev/null
tree=$("$QB_SOURCE_DIR/tests/trees/debian.sh" systemd-i386)
cp -a "$tree" "$T/tree"
cat >"$T/tree/etc/systemd/system/qb-report.service" <<'UNIT'
[Unit]
Description=quickboot test report
After=multi-user.target

[Service]
Type=oneshot
StandardOutput=file:/dev/kmsg
ExecStart=/bin/sh -c 'echo "qb-report: multi-user.target $(systemctl is-active multi-user.target)"; echo "qb-report: failed units: [$(systemctl --failed --no-legend --plain | tr "\\n" ";")]"; echo "qb-report: modules: [$(cut -d" " -f1 /proc/modules | sort | tr "\\n" " ")]"; echo "qb-report: modules from $(ls -d /lib/modules/*)"; echo "qb-report: done"'
UNIT
ln -s ../qb-report.service "$T/tree/etc/systemd/system/multi-user.target.wants/qb-report.service"

use_shared_kernel 686
kid=$(qb --json kernel list | python3 -c 'import json,sys; print([k for k in json.load(sys.stdin) if k["arch"]=="i686"][0]["id"])')
# console=ttyS0 last: /dev/console (systemd's status lines) is the serial port.
qb export "$T/tree" --out "$T/site" --kernel "$kid" --append console=ttyS0 2>"$T/export.log" || { cat "$T/export.log"; fail "export failed"; }
grep -q "the export adds the kernel's modules" "$T/export.log" || { cat "$T/export.log"; fail "the modules were not added"; }
start_serve "$T/site"
# The boot takes 150-240 s here. An attempt ends when the serial console has been
# silent for 240 s, or after 600 s; the report of a failed one (requests still open,
# CPU progress, open 9p reads, the page's console, the serial tail) is printed and a
# second boot is tried, so a stall of any other cause is visible in the log and fails
# the test only if it happens twice. The test's CTest timeout leaves room for both.
boot_in_chromium() {
  rm -rf "$T/chromium"
  nice node "$QB_SOURCE_DIR/tests/v86/browser_boot.mjs" "$modules" "$URL" "qb-report: done" 600 \
    "$T/chromium" "$T/serial" 240 >"$T/stats.json"
}
if ! boot_in_chromium; then
  echo "v86_browser_systemd: WARNING: first boot failed or stalled; its report and serial tail:" >&2
  cat "$T/stats.json" >&2; tail -c 6000 "$T/serial" >&2
  boot_in_chromium || { cat "$T/stats.json"; tail -c 6000 "$T/serial"; fail "systemd did not reach multi-user.target in Chromium (twice)"; }
fi
cat "$T/stats.json"
grep -a "qb-report" "$T/serial"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert not s["failed"], s["failed"]' "$T/stats.json" || fail "failed requests"
# Asked of systemd itself: its "Reached target" status line is printed only when the
# boot is slow enough for `quiet`'s automatic status output to switch on.
grep -aq "qb-report: multi-user.target active" "$T/serial" || fail "multi-user.target was not reached"
grep -aq "qb-report: failed units: \[\]" "$T/serial" || fail "systemctl --failed is not empty"
grep -aq "qb-report: modules: \[.*autofs4" "$T/serial" || fail "autofs4 was not loaded from the bundle's modules"
grep -aq "Failed to find module" "$T/serial" && fail "systemd could not find a module"
stop_serve
echo PASS
