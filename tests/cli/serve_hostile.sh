#!/usr/bin/env bash
# `quickboot serve` against hostile requests: paths out of DIR (.., %2e%2e, encoded
# slashes, symlinks out and in), hidden state, a fifo, a huge header and URL, clients
# that disconnect mid-blob, 200 concurrent clients. Each gets a clear status, nothing
# outside DIR is ever sent, and the server keeps serving and exits cleanly.
source "$(dirname "$0")/../common.inc"
source "$(dirname "$0")/serve.inc"
mkdir -p "$T/site/sub" "$T/site/.quickboot"
echo TOPSECRET >"$T/secret"
echo 'state' >"$T/site/.quickboot/state"
echo '{"version":3}' >"$T/site/fs.json"
head -c 20000000 /dev/urandom >"$T/site/0123abcd.bin"
head -c 50000 /dev/urandom >"$T/site/4567cdef.bin"
ln -s ../secret "$T/site/out-link"
ln -s "$T/secret" "$T/site/abs-link"
ln -s fs.json "$T/site/in-link"
ln -s .. "$T/site/sub/up"
mkfifo "$T/site/fifo"
start_serve "$T/site"

expect() {  # expect STATUS PATH [CURL ARGS]
  local want=$1 p=$2; shift 2
  local body; body=$(curl -s --path-as-is -w '\n%{http_code}' "$@" "$URL$p")
  [ "${body##*$'\n'}" = "$want" ] || fail "$p: status ${body##*$'\n'}, want $want"
  case $body in *TOPSECRET*) fail "$p: served a file from outside DIR" ;; esac
}
expect 400 "../secret"
expect 400 "sub/../../secret"
expect 400 "%2e%2e/secret"
expect 400 "%2E%2E/secret"
expect 400 "sub%2f..%2f..%2fsecret"
expect 400 "sub/%2e%2e%2f%2e%2e%2fsecret"
expect 404 "..%5csecret"     # a backslash is part of a name here, not a separator
expect 403 "out-link"
expect 403 "abs-link"
expect 403 "in-link"         # no symlink is followed, even one that stays inside
expect 403 "sub/up/secret"
expect 403 "fifo"            # and the open did not block a server thread
expect 404 ".quickboot/state"
expect 404 "%2equickboot/state"
expect 404 "nope.bin"
expect 400 "fs.json%00.bin"
expect 200 "fs.json"
# A raw request line that curl would normalise, and an absolute-form target.
printf 'GET /../secret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$T/raw"
resp=$(python3 - "$URL" "$T/raw" <<'PY'
import socket, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); s = socket.create_connection((u.hostname, u.port))
s.sendall(open(sys.argv[2], "rb").read()); out = b""
while True:
    d = s.recv(65536)
    if not d: break
    out += d
print(out.decode(errors="replace"))
PY
)
case $resp in "HTTP/1.1 400"*) ;; *) fail "raw '/../secret' got: ${resp%%$'\r'*}" ;; esac
case $resp in *TOPSECRET*) fail "raw '/../secret' served the secret" ;; esac

# A huge header and a huge URL: refused with 400 / 414, no crash.
expect 400 "fs.json" -H "X-Big: $(head -c 100000 /dev/zero | tr '\0' a)"
expect 414 "$(head -c 20000 /dev/zero | tr '\0' a)"
# Clients that go away mid-blob (20 MB sent at 1 MB/s, cut after 0.3 s).
for _ in 1 2 3 4 5; do timeout 0.3 curl -s --limit-rate 1M -o /dev/null "${URL}0123abcd.bin" || true; done
expect 200 "fs.json"
# 200 concurrent clients, each fetching the blob: every one gets it whole.
seq 200 | xargs -P 200 -I{} sh -c 'curl -s -o - "$1" | sha256sum' _ "${URL}4567cdef.bin" >"$T/sums"
want=$(sha256sum <"$T/site/4567cdef.bin")
[ "$(grep -c -F "$want" "$T/sums")" = 200 ] || fail "$(grep -v -c -F "$want" "$T/sums") of 200 concurrent clients got a wrong blob"
# And 200 concurrent range requests of the big blob.
seq 200 | xargs -P 200 -I{} curl -s -o /dev/null -w '%{http_code}\n' -r 1000-1999 "${URL}0123abcd.bin" | sort | uniq -c >"$T/codes"
grep -q '^ *200 206$' "$T/codes" || { cat "$T/codes"; fail "not every concurrent range request got 206"; }
kill -0 $SERVE_PID || fail "the server died"
stop_serve
grep -q "0 server errors" "$T/serve.err" || { cat "$T/serve.err"; fail "server errors were counted"; }
echo PASS
