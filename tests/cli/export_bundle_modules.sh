#!/usr/bin/env bash
# `export --kernel` of a tree without lib/modules/<release> (a debootstrap tree): the
# export carries the store's modules with depmod's indexes, where the tree's lib is
# (usr/lib behind Debian's lib -> usr/lib), as if part of the tree, and says so. The
# blobs are the modules' bytes; a second export reads nothing; a tree with its own
# modules gets none added.
source "$(dirname "$0")/../common.inc"
[ -f /usr/share/seabios/bios.bin ] || fail "seabios missing (apt-get install seabios)"
export QUICKBOOT_BUSYBOX_I686=$("$QB_SOURCE_DIR/kernels/busybox.sh" i386)
export QUICKBOOT_V86_DIR=$T/v86pkg
mkdir -p "$T/v86pkg/build"; echo '//' >"$T/v86pkg/build/libv86.js"; echo w >"$T/v86pkg/build/v86.wasm"
use_shared_kernel 686
read -r kid rel mods < <(qb --json kernel list | python3 -c 'import json,sys
k=[k for k in json.load(sys.stdin) if k["arch"]=="i686"][0]; print(k["id"], k["release"], k.get("modules_dir", ""))')
mkdir -p "$T/root/usr/lib" "$T/root/usr/bin" "$T/root/etc"
ln -s usr/lib "$T/root/lib"
echo hi >"$T/root/etc/motd"
qb export "$T/root" --out "$T/site" --kernel "$kid" 2>"$T/log" || { cat "$T/log"; fail "export failed"; }
grep -q "has no /lib/modules/$rel: the export adds the kernel's modules" "$T/log" || { cat "$T/log"; fail "no notice about the modules"; }
python3 - "$T/site" "$rel" <<'PY' || fail "the modules are not in fs.json as they should be"
import hashlib, json, os, sys
site, rel = sys.argv[1:]
doc = json.load(open(os.path.join(site, "fs.json")))
def find(entries, parts):
    for e in entries:
        if e[0] == parts[0]:
            return e if len(parts) == 1 else find(e[6], parts[1:])
    raise SystemExit(f"missing {'/'.join(parts)}")
base = ["usr", "lib", "modules", rel]
for f in ["modules.dep", "modules.dep.bin", "modules.alias.bin", "modules.builtin.bin"]:
    find(doc["fsroot"], base + [f])
lib = find(doc["fsroot"], ["lib"]); assert lib[6] == "usr/lib", lib
ko = find(doc["fsroot"], base + ["kernel", "fs", "autofs", "autofs4.ko"])
assert os.path.getsize(os.path.join(site, ko[6])) == ko[1], "autofs4.ko's blob has another size"
PY
qb --json export "$T/root" --out "$T/site" --kernel "$kid" >"$T/again.json" 2>/dev/null
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["files_hashed"] == 0 and not d["blobs_added"] and not d["entries_added"], d' "$T/again.json" ||
  fail "a second export was not a no-op"
# A tree that has its own modules for this release: nothing added.
mkdir -p "$T/root2/lib/modules/$rel"
qb export "$T/root2" --out "$T/site2" --kernel "$kid" 2>"$T/log2"
grep -q "the export adds the kernel's modules" "$T/log2" && fail "modules added to a tree that has them"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); l=[e for e in d["fsroot"] if e[0]=="lib"][0]; m=l[6][0]; assert m[0]=="modules" and m[6][0][6]==[], m' "$T/site2/fs.json" ||
  fail "the tree's own empty modules directory changed"
echo PASS
