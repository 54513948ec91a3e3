#!/usr/bin/env python3
"""The reference tools' work, written for the bench (not v86's code): like fs2json.py,
walk the tree reading and SHA-256-hashing every file into an fs.json; then, like
copy-to-sha256.py, walk again, read and hash every file again and copy it to
OUT/<first 8 hex>.bin unless that exists.

usage: ref_export.py SOURCE OUT
"""
import hashlib, json, os, stat, sys

def hash_file(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        while True:
            b = f.read(1 << 18)
            if not b: break
            h.update(b)
    return h.hexdigest()

def tree(path):
    out = []
    for name in os.listdir(path):
        full = os.path.join(path, name)
        st = os.lstat(full)
        e = [name, st.st_size, int(st.st_mtime), st.st_mode, st.st_uid, st.st_gid]
        if stat.S_ISDIR(st.st_mode): e.append(tree(full))
        elif stat.S_ISLNK(st.st_mode): e.append(os.readlink(full))
        elif stat.S_ISREG(st.st_mode): e.append(hash_file(full)[:8] + ".bin")
        out.append(e)
    return out

def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    fsroot = tree(src)
    with open(os.path.join(out, "fs.json"), "w") as f:
        json.dump({"fsroot": fsroot, "version": 3, "size": 0}, f, separators=(",", ":"))
    for root, dirs, files in os.walk(src):
        for n in files:
            p = os.path.join(root, n)
            if not stat.S_ISREG(os.lstat(p).st_mode): continue
            dst = os.path.join(out, hash_file(p)[:8] + ".bin")
            if os.path.exists(dst): continue
            with open(p, "rb") as fi, open(dst, "wb") as fo:
                while True:
                    b = fi.read(1 << 18)
                    if not b: break
                    fo.write(b)

main()
