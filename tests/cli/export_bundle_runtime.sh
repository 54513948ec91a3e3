#!/usr/bin/env bash
# `export --kernel`: every precondition of the bundle is checked (and what quickboot can
# fetch is fetched) before any output is written, and v86's runtime is found where a
# user has it: $QUICKBOOT_V86_DIR, the project's node_modules, `npm root -g`, quickboot's
# download cache, else fetched with npm (pinned version, integrity checked).
# The i686 busybox is fetched with apt-get download when missing.
source "$(dirname "$0")/../common.inc"
command -v npm >/dev/null || { [ -n "${CI:-}" ] && fail "npm missing in CI"; skip "npm not installed"; }
[ -f /usr/share/seabios/bios.bin ] || fail "seabios missing (apt-get install seabios)"
bb=$("$QB_SOURCE_DIR/kernels/busybox.sh" i386)
use_shared_kernel 686
kid=$(qb --json kernel list | python3 -c 'import json,sys; print([k for k in json.load(sys.stdin) if k["arch"]=="i686"][0]["id"])')
mkdir -p "$T/root/sbin" "$T/root/etc"
echo hi >"$T/root/etc/motd"
fake_pkg() {  # fake_pkg DIR WORD: a v86 package whose files say WORD
  mkdir -p "$1/build"; echo "// $2" >"$1/build/libv86.js"; echo "$2" >"$1/build/v86.wasm"
}
export QUICKBOOT_BUSYBOX_I686=$bb

# Failures: nothing at all is written.
QUICKBOOT_BUSYBOX_I686=$T/nope expect_fail 1 "no static busybox for i686 at $T/nope" -- qb export "$T/root" --out "$T/o1" --kernel "$kid"
[ ! -e "$T/o1" ] || fail "a missing busybox left output behind"
QUICKBOOT_V86_DIR=$T/nope expect_fail 1 "\$QUICKBOOT_V86_DIR is $T/nope, but it has no build/libv86.js" -- qb export "$T/root" --out "$T/o2" --kernel "$kid"
[ ! -e "$T/o2" ] || fail "a bad QUICKBOOT_V86_DIR left output behind"
mkdir -p "$T/nonpm" "$T/empty-dl" "$T/cwd"
for t in env sh dirname; do ln -s "$(command -v $t)" "$T/nonpm/$t"; done
(cd "$T/cwd" && expect_fail 1 "npm is missing to fetch it" -- env PATH=$T/nonpm QUICKBOOT_DOWNLOADS=$T/empty-dl "$QUICKBOOT" export "$T/root" --out "$T/o3" --kernel "$kid")
grep -q "hint: apt-get install npm" "$T/err" || fail "no hint for a missing npm"
[ ! -e "$T/o3" ] || fail "a missing runtime left output behind"
expect_fail 2 "--append is for the bundle" -- qb export "$T/root" --out "$T/o4" --append quiet
[ ! -e "$T/o4" ] || fail "--append without --kernel left output behind"

# Where the runtime is found, in order.
fake_pkg "$T/env-pkg" env
fake_pkg "$T/proj/node_modules/v86" project
fake_pkg "$T/global/v86" global
mkdir -p "$T/gbin"
printf '#!/bin/sh\n[ "$1 $2" = "root -g" ] && echo %s && exit 0\nexit 1\n' "$T/global" >"$T/gbin/npm"; chmod +x "$T/gbin/npm"
mkdir -p "$T/proj/sub"
(cd "$T/proj/sub" && QUICKBOOT_V86_DIR=$T/env-pkg "$QUICKBOOT" export "$T/root" --out "$T/a" --kernel "$kid" 2>"$T/log")
[ "$(cat "$T/a/v86/v86.wasm")" = env ] || fail "QUICKBOOT_V86_DIR did not come first"
(cd "$T/proj/sub" && PATH=$T/gbin:$PATH "$QUICKBOOT" export "$T/root" --out "$T/b" --kernel "$kid" 2>"$T/log")
[ "$(cat "$T/b/v86/v86.wasm")" = project ] || fail "the project's node_modules (in a parent directory) was not used"
grep -q "the project's node_modules" "$T/log" || { cat "$T/log"; fail "the log does not say where v86 came from"; }
(cd "$T/cwd" && PATH=$T/gbin:$PATH "$QUICKBOOT" export "$T/root" --out "$T/c" --kernel "$kid" 2>"$T/log")
[ "$(cat "$T/c/v86/v86.wasm")" = global ] || fail "the global npm prefix was not used"

# Nothing installed anywhere: v86 is fetched with npm into the download cache, and the
# i686 busybox with apt-get download (a clean QUICKBOOT_DOWNLOADS has neither).
unset QUICKBOOT_BUSYBOX_I686
(cd "$T/cwd" && QUICKBOOT_DOWNLOADS=$T/dl "$QUICKBOOT" export "$T/root" --out "$T/d" --kernel "$kid" 2>"$T/log") ||
  { cat "$T/log"; fail "export with fetching failed"; }
grep -q "fetching the v86 runtime (npm package v86@" "$T/log" || { cat "$T/log"; fail "no progress line for the v86 fetch"; }
grep -q "integrity verified" "$T/log" || fail "the fetch does not say it verified the package"
grep -q "fetching a static busybox for i686" "$T/log" || { cat "$T/log"; fail "no progress line for the busybox fetch"; }
[ -x "$T/dl/busybox-i386/busybox" ] || fail "busybox was not fetched into the download cache"
cmp -s "$T/d/v86/v86.wasm" "$T/dl"/v86-*/node_modules/v86/build/v86.wasm || fail "the fetched v86.wasm was not copied"
head -c 4 "$T/d/v86/v86.wasm" | od -An -c | grep -q 'a   s   m' || fail "the fetched v86.wasm is not WebAssembly"
[ ! -e "$T/dl"/v86-*.tmp ] || fail "the fetch left its temporary directory"
# The second time the cache is used, without npm.
(cd "$T/cwd" && PATH=$T/nonpm QUICKBOOT_DOWNLOADS=$T/dl "$QUICKBOOT" export "$T/root" --out "$T/e" --kernel "$kid" 2>"$T/log") ||
  { cat "$T/log"; fail "the cached runtime was not found without npm"; }
grep -q "quickboot's download cache" "$T/log" || { cat "$T/log"; fail "the log does not name the cache"; }

# The page: the tree has no /sbin/init, so init=/bin/sh; --append words follow; the file count.
grep -q 'init=/bin/sh' "$T/a/index.html" || fail "no init=/bin/sh for a tree without /sbin/init"
qb -q export "$T/root" --out "$T/f" --kernel "$kid" --append init=/bin/true --append 'quiet' 2>/dev/null
grep -q 'rootflags=cache=loose init=/bin/true quiet"' "$T/f/index.html" || { grep cmdline "$T/f/index.html"; fail "--append words missing"; }
grep -q 'init=/bin/sh' "$T/f/index.html" && fail "init=/bin/sh added although --append init= was given"
n=$(python3 -c 'import json,sys
def count(es): return sum(1 + (count(e[6]) if len(e) > 6 and isinstance(e[6], list) else 0) for e in es)
print(count(json.load(open(sys.argv[1]))["fsroot"]))' "$T/f/fs.json")
grep -q ", $n files from" "$T/f/index.html" || { grep files "$T/f/index.html"; fail "index.html does not say $n files"; }
echo PASS
