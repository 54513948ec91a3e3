#!/usr/bin/env bash
# `quickboot serve` refuses what it cannot do, with the file or address named and a
# hint: a missing DIR, a port already in use, an address not of this machine. By
# default it listens on loopback only.
source "$(dirname "$0")/../common.inc"
source "$(dirname "$0")/serve.inc"
expect_fail 1 "cannot open the directory to serve $T/nope" -- qb serve "$T/nope" --port 0
echo x >"$T/file"
expect_fail 1 "cannot open the directory to serve $T/file" -- qb serve "$T/file" --port 0
expect_fail 2 "" -- qb serve "$T" --port 70000
expect_fail 1 "cannot listen on 192.0.2.1" -- qb serve "$T" --bind 192.0.2.1 --port 0
grep -q "hint: pick another --port" "$T/err" || fail "no hint for a bad --bind"
expect_fail 1 "--watch $T/nope: not a directory" -- qb serve "$T/site" --watch "$T/nope"

mkdir -p "$T/site"
echo '{}' >"$T/site/fs.json"
start_serve "$T/site"
case $URL in http://127.0.0.1:*/) ;; *) fail "the default address is not loopback: $URL" ;; esac
port=${URL##*:}; port=${port%/}
if command -v ss >/dev/null; then
  ss -ltn | awk '{print $4}' | grep -qx "127.0.0.1:$port" || fail "not listening on 127.0.0.1:$port"
  ss -ltn | awk '{print $4}' | grep -qE "^(0\.0\.0\.0|\*|\[::\]):$port$" && fail "listening on all addresses"
fi
# (a guard: if the bind wrongly succeeded, the server would run forever)
expect_fail 1 "cannot listen on 127.0.0.1 port $port" -- timeout 20 "$QUICKBOOT" serve "$T/site" --port "$port"
# --json: one line with the URL and the chosen port.
"$QUICKBOOT" --json serve "$T/site" --port 0 >"$T/json" 2>/dev/null &
jp=$!
for _ in $(seq 1 1200); do [ -s "$T/json" ] && break; sleep 0.1; done  # hang guard only
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["url"].endswith(":%d/" % d["port"]) and d["port"] > 0, d' "$T/json" ||
  fail "--json did not print the URL and port"
kill $jp; wait $jp || true
stop_serve
echo PASS
