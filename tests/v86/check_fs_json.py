#!/usr/bin/env python3
"""Checks an exported fs.json against the source tree it came from.

usage: check_fs_json.py SOURCE_DIR OUT_DIR [--skip REL]...

Every entry: type and mode, uid, gid, size, mtime, symlink target, blob content (the
blob hashes to the file's content and is named after it). Every source entry (minus
--skip) appears. Children sorted bytewise; version 3; size is the sum; every named
blob exists. Exits 1 with one line per mismatch.
"""
import hashlib, json, os, stat, subprocess, sys

def blob_bytes(path):
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dcq", path], check=True, stdout=subprocess.PIPE).stdout
    with open(path, "rb") as f:
        return f.read()

def main():
    src, out = os.fsencode(sys.argv[1]), sys.argv[2]
    skip = set()
    args = sys.argv[3:]
    while args:
        if args[0] == "--skip":
            skip.add(os.fsencode(args[1])); args = args[2:]
        else:
            sys.exit("bad argument " + args[0])
    with open(os.path.join(out, "fs.json"), "rb") as f:
        raw = f.read()
    doc = json.loads(raw)
    errors = []
    if doc.get("version") != 3: errors.append("version is not 3")
    total = 0
    seen = set()

    def walk(entries, rel):
        nonlocal total
        names = [e[0].encode() for e in entries]
        if names != sorted(names): errors.append(f"children of /{rel.decode()} not sorted bytewise")
        for e in entries:
            name = e[0].encode()
            path = rel + b"/" + name if rel else name
            seen.add(path)
            total += e[1]
            full = os.path.join(src, path)
            try:
                st = os.lstat(full)
            except OSError as x:
                errors.append(f"{path!r}: in fs.json but not in the source ({x})"); continue
            want = [st.st_size if not (stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) or stat.S_ISSOCK(st.st_mode)) else 0,
                    int(st.st_mtime_ns // 10**9), st.st_mode, st.st_uid, st.st_gid]
            if e[1:6] != want: errors.append(f"{path!r}: size/mtime/mode/uid/gid {e[1:6]} != {want}")
            if stat.S_ISDIR(st.st_mode):
                if len(e) != 7 or not isinstance(e[6], list): errors.append(f"{path!r}: directory without a child list")
                else: walk(e[6], path)
            elif stat.S_ISLNK(st.st_mode):
                if len(e) != 7 or e[6].encode() != os.readlink(full): errors.append(f"{path!r}: symlink target {e[6:]!r}")
            elif stat.S_ISREG(st.st_mode):
                if len(e) != 7: errors.append(f"{path!r}: file without a blob"); continue
                bp = os.path.join(out, e[6])
                if not os.path.exists(bp): errors.append(f"{path!r}: blob {e[6]} missing"); continue
                data = blob_bytes(bp)
                with open(full, "rb") as f: content = f.read()
                digest = hashlib.sha256(content).hexdigest()
                if data != content: errors.append(f"{path!r}: blob {e[6]} content differs")
                if not e[6].startswith(digest[:8]) or e[6].split(".")[0] not in (digest[:8], digest):
                    errors.append(f"{path!r}: blob name {e[6]} does not match sha256 {digest}")
            else:
                if len(e) != 6: errors.append(f"{path!r}: special file must have 6 elements")

    walk(doc["fsroot"], b"")
    if doc.get("size") != total: errors.append(f"size {doc.get('size')} != sum {total}")
    for root, dirs, files in os.walk(src):
        for n in dirs + files:
            rel = os.path.relpath(os.path.join(root, n), src)
            if rel in seen: continue
            if any(rel == s or rel.startswith(s + b"/") for s in skip): continue
            errors.append(f"{rel!r}: in the source but not in fs.json")
    empty = os.path.join(out, "e3b0c442.bin")
    if not (os.path.exists(empty) or os.path.exists(empty + ".zst")): errors.append("the empty blob is missing")
    for e in errors: print("check_fs_json:", e)
    sys.exit(1 if errors else 0)

main()
