#!/usr/bin/env bash
# `quickboot serve DIR --watch ROOTFS`: the first export is made before serving; a change
# in ROOTFS is re-exported (only the new content read) and every page listening on
# /.quickboot/events gets a "reload" event; the new fs.json (new ETag) and blob are served.
source "$(dirname "$0")/../common.inc"
source "$(dirname "$0")/serve.inc"
mkdir -p "$T/root/etc"
echo one >"$T/root/etc/motd"
start_serve "$T/site" --watch "$T/root"
[ "$(status fs.json)" = 200 ] || fail "no fs.json served right after start"
tag=$(header fs.json ETag)

# A page's event stream, recorded in the background.
curl -s -N "${URL}.quickboot/events" >"$T/events" &
ev=$!
for _ in $(seq 1 1200); do grep -q "live reload" "$T/events" && break; sleep 0.1; done
grep -q "live reload" "$T/events" || fail "the event stream did not open"

echo "a new line for the browser" >"$T/root/etc/motd"
for _ in $(seq 1 3000); do grep -q "^event: reload" "$T/events" && break; sleep 0.1; done
kill $ev 2>/dev/null || true
grep -q "^event: reload" "$T/events" || { cat "$T/serve.err"; fail "no reload event after a change"; }
[ "$(header fs.json ETag)" != "$tag" ] || fail "fs.json's ETag did not change"
blob=$(printf 'a new line for the browser\n' | sha256sum | cut -c1-8).bin
[ "$(curl -sf "$URL$blob")" = "a new line for the browser" ] || fail "the new blob $blob is not served"
grep -q "1 files read" "$T/serve.err" || { cat "$T/serve.err"; fail "the re-export read more than the changed file"; }
stop_serve
echo PASS
