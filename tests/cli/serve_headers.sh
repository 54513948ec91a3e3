#!/usr/bin/env bash
# `quickboot serve` on a real export and bundle-like files: Content-Type per kind,
# immutable caching for blobs, no-cache + ETag (304) for fs.json and index.html,
# Range requests (206, 416 past the end), index.html for /, a redirect for a directory.
source "$(dirname "$0")/../common.inc"
source "$(dirname "$0")/serve.inc"
bash "$QB_SOURCE_DIR/tests/v86/make_tree.sh" "$T/tree"
qb -q export "$T/tree" --out "$T/site"
mkdir -p "$T/site/v86"
printf '<!doctype html><p>page' >"$T/site/index.html"
printf '\0asm\1\0\0\0' >"$T/site/v86/v86.wasm"
printf 'var V86;' >"$T/site/v86/libv86.js"
start_serve "$T/site"

big=$(cd "$T/site" && ls -S *.bin | head -1)   # the 700,000-byte file's blob
size=$(stat -c %s "$T/site/$big")
[ "$size" -ge 700000 ] || fail "expected the big blob first, got $big ($size bytes)"

check() {  # check PATH HEADER WANT
  local got; got=$(header "$1" "$2")
  [ "$got" = "$3" ] || fail "$1: $2 is '$got', want '$3'"
}
check v86/v86.wasm Content-Type application/wasm
check fs.json Content-Type application/json
check v86/libv86.js Content-Type text/javascript
check index.html Content-Type "text/html; charset=utf-8"
check "$big" Content-Type application/octet-stream
check "$big" Cache-Control "public, max-age=31536000, immutable"
check e3b0c442.bin Cache-Control "public, max-age=31536000, immutable"
check e3b0c442.bin Content-Length 0
check fs.json Cache-Control no-cache
check index.html Cache-Control no-cache
check "" Cache-Control no-cache
check "$big" Accept-Ranges bytes

# The whole blob is the file's bytes; / is index.html.
curl -sf "$URL$big" -o "$T/got"
cmp -s "$T/got" "$T/site/$big" || fail "$big came back different"
[ "$(curl -sf "$URL")" = "$(cat "$T/site/index.html")" ] || fail "/ is not index.html"
[ "$(status v86)" = 301 ] || fail "a directory without its slash is not redirected"
[ "$(header v86 Location)" = "/v86/" ] || fail "the redirect does not point at /v86/"

# fs.json: an ETag, 304 when it still matches, a new one after a re-export changes it.
tag=$(header fs.json ETag)
[ -n "$tag" ] || fail "fs.json has no ETag"
[ "$(status fs.json -H "If-None-Match: $tag")" = 304 ] || fail "a matching If-None-Match is not 304"
echo changed >"$T/tree/etc/new-file"
qb -q export "$T/tree" --out "$T/site"
tag2=$(header fs.json ETag)
[ "$tag2" != "$tag" ] || fail "fs.json's ETag did not change with its content"
[ "$(status fs.json -H "If-None-Match: $tag")" = 200 ] || fail "a stale If-None-Match is not 200"

# Ranges: inside, clipped at the end, suffix, past the end.
[ "$(status "$big" -r 100-199)" = 206 ] || fail "a range is not 206"
[ "$(header "$big" Content-Range -r 100-199)" = "bytes 100-199/$size" ] || fail "wrong Content-Range"
curl -s -r 100-199 "$URL$big" | cmp -s - <(tail -c +101 "$T/site/$big" | head -c 100) || fail "range bytes differ"
[ "$(header "$big" Content-Range -r "$((size - 10))-$((size + 1000))")" = "bytes $((size - 10))-$((size - 1))/$size" ] ||
  fail "a range reaching past the end is not clipped"
[ "$(curl -s -r -7 "$URL$big" | wc -c)" = 7 ] || fail "a suffix range is not the last 7 bytes"
[ "$(status "$big" -r "$size-")" = 416 ] || fail "a range starting at the end is not 416"
[ "$(status "$big" -r "$((size * 2))-$((size * 3))")" = 416 ] || fail "a range past the end is not 416"
[ "$(header "$big" Content-Range -r "$((size * 2))-")" = "bytes */$size" ] || fail "416 without Content-Range: bytes */SIZE"
[ "$(status e3b0c442.bin -r 0-10)" = 416 ] || fail "a range of an empty file is not 416"
# HEAD: the headers, no body.
[ "$(curl -sI "$URL$big" | tr -d '\r' | awk '/^Content-Length/{print $2}')" = "$size" ] || fail "HEAD lacks the length"

# Without --watch the event stream says "never reconnect" (204).
[ "$(status .quickboot/events)" = 204 ] || fail "the event stream without --watch is not 204"
stop_serve
grep -q "served [0-9]* requests" "$T/serve.err" || fail "no summary line at exit"
echo PASS
