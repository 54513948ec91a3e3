#!/usr/bin/env python3
"""Writes the small seed corpora under corpus/<target>/ (committed; run again only to
change them): tars of the shapes the export tests use, a state file built the way
save_state lays it out, synthetic bzImages and ELF headers, a small kernel .deb, and
cpio path lists. Usage: make_seeds.py [CORPUS_DIR]"""
import gzip, io, lzma, os, struct, sys, tarfile, zlib

out = sys.argv[1] if len(sys.argv) > 1 and __name__ == "__main__" else os.path.join(os.path.dirname(__file__), "corpus")


def put(target, name, data):
    if __name__ != "__main__":
        return  # imported for its helpers (tests/cli/hostile_kernel_inputs.sh)
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def tar_bytes(members, fmt=tarfile.GNU_FORMAT):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=fmt) as t:
        for m in members:
            ti = tarfile.TarInfo(m[0])
            ti.mtime = 1700000000
            kind = m[1]
            if kind == "file":
                ti.size = len(m[2])
                t.addfile(ti, io.BytesIO(m[2]))
                continue
            ti.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE,
                       "fifo": tarfile.FIFOTYPE}[kind]
            if kind in ("sym", "hard"):
                ti.linkname = m[2]
            t.addfile(ti)
    return b.getvalue()


# tar: plain, gzip, xz; symlinks, hard links (good and dangling, ".." targets), odd names.
basic = tar_bytes([("./", "dir"), ("./etc", "dir"), ("./etc/hostname", "file", b"box\n"),
                   ("./bin", "sym", "usr/bin"), ("./usr/bin/sh", "file", b"#!sh\n"),
                   ("./usr/bin/ash", "hard", "./usr/bin/sh"), ("./dev/fifo", "fifo")])
put("tar", "basic.tar", basic)
put("tar", "basic.tar.gz", gzip.compress(basic, mtime=0))
put("tar", "basic.tar.xz", lzma.compress(basic))
put("tar", "links.tar", tar_bytes([("a/f", "file", b"x"), ("a/h", "hard", "a/../a/f"),
                                   ("b", "hard", "missing"), ("c", "hard", "../out"),
                                   ("d", "sym", "../../etc/passwd")]))
put("tar", "names.tar", tar_bytes([("sp ace/\u00e9t\u00e9\"q\\", "file", b"1"),
                                   ("tab\there", "file", b""), ("/abs/../x", "file", b"2"),
                                   ("deep/" + "d/" * 40 + "f", "file", b"3")], tarfile.PAX_FORMAT))

# state: the layout of src/v86/state.cpp (header, records, blobs, source, paths).
def state_bytes(entries, blobs, source=b"/src"):
    recs, pool = b"", b""
    for path, mode, size, flags, target in entries:
        off = len(pool)
        pool += path + target
        recs += struct.pack("<QQQqqIBBHII32s", 1, 2, size, 10, 10, mode, 1 if mode & 0o100000 else 0,
                            0, flags, off, len(path), b"\x11" * 32)
    bl = b"".join(struct.pack("<32sB7x", d, f) for d, f in blobs)
    hdr = b"qbv86st\x01" + struct.pack("<IIQQQQqiIQ", 4, 0x01020304, len(entries), len(blobs), len(source),
                                        len(pool), 5, 0, 88, 0)
    return hdr + recs + bl + source + pool

put("state", "small.state", state_bytes(
    [(b"bin", 0o120777, 7, 2, b"usr/bin"), (b"etc", 0o40755, 0, 1, b""), (b"etc/hostname", 0o100644, 4, 0, b"")],
    [(b"\x11" * 32, 0)]))
put("state", "empty.state", state_bytes([], []))

# bzimage: synthetic images (see bzimage_test.cpp) around small payloads.
elf64 = bytearray(64)
elf64[0:4] = b"\x7fELF"; elf64[4] = 2; elf64[5] = 1; elf64[6] = 1
struct.pack_into("<HHI", elf64, 16, 2, 62, 1)
elf64 = bytes(elf64) + b"\0" * 64
elf32 = bytearray(52)
elf32[0:4] = b"\x7fELF"; elf32[4] = 1; elf32[5] = 1; elf32[6] = 1
struct.pack_into("<HHI", elf32, 16, 2, 3, 1)
elf32 = bytes(elf32) + b"\0" * 64


def bzimage(payload, version=b"6.1.0-fuzz (fuzz@seed) #1 SMP"):
    d = bytearray(1024 + 512)
    d[0x1f1] = 1
    d[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", d, 0x206, 0x020f)
    struct.pack_into("<H", d, 0x20e, 0x300 - 0x200)
    struct.pack_into("<H", d, 0x236, 1)
    d[0x300:0x300 + len(version) + 1] = version + b"\0"
    struct.pack_into("<II", d, 0x248, 0x100, len(payload))
    return bytes(d[:1024 + 0x100]) + payload + b"\0" * 64

sized = lambda c, raw: c + struct.pack("<I", len(raw))
put("bzimage", "gzip.bin", bzimage(sized(gzip.compress(elf64, mtime=0), elf64)))
put("bzimage", "xz.bin", bzimage(sized(lzma.compress(elf32, check=lzma.CHECK_CRC32), elf32)))
put("bzimage", "lzma.bin", bzimage(sized(lzma.compress(elf64, format=lzma.FORMAT_ALONE), elf64)))
put("bzimage", "none.bin", bzimage(elf64 + struct.pack("<I", len(elf64))))
put("elf", "x86_64.elf", elf64)
put("elf", "i386.elf", elf32)

# deb: ar with debian-binary, control.tar.xz and data.tar.xz holding a kernel's shape.
def ar(members):
    b = b"!<arch>\n"
    for name, data in members:
        b += b"%-16s%-12d%-6d%-6d%-8s%-10d`\n" % (name, 0, 0, 0, b"100644", len(data)) + data
        if len(data) % 2:
            b += b"\n"
    return b

data = tar_bytes([("./boot/vmlinuz-6.1.0-fuzz", "file", bzimage(sized(gzip.compress(elf64, mtime=0), elf64))),
                  ("./boot/config-6.1.0-fuzz", "file", b"CONFIG_VIRTIO=y\n"),
                  ("./lib/modules/6.1.0-fuzz/modules.order", "file", b"kernel/a.ko\n"),
                  ("./lib/modules/6.1.0-fuzz/kernel/a.ko", "file", b"\x7fELFmodule"),
                  ("./lib/modules/6.1.0-fuzz/kernel/b.ko", "hard", "./lib/modules/6.1.0-fuzz/kernel/a.ko"),
                  ("./lib/modules/6.1.0-fuzz/build", "sym", "/usr/src/linux")])
put("deb", "kernel.deb", ar([(b"debian-binary", b"2.0\n"), (b"control.tar.xz", lzma.compress(tar_bytes([("./control", "file", b"Package: k\n")]))),
                            (b"data.tar.xz", lzma.compress(data))]))
put("deb", "data.tar", data)

# fs_json: NUL-separated (kind byte + name[=target]) lists, as fuzz_fs_json.cpp reads them.
put("fs_json", "plain", b"\x04etc\0\x02hostname=box\0\x01sh=/bin/busybox\0\x00empty")
put("fs_json", "odd", "\x04d\u00e9j\u00e0\0\x02q\"uote\\=x\0\x01tab\there=\U0001f600\0\x02ctl\x01\x7f=".encode())

# cpio_path: NUL-separated (kind byte + path) lists, as fuzz_cpio_path.cpp reads them.
put("cpio_path", "plain", b"\x01init\0\x00usr/lib\0\x02bin\0\x01usr/lib/x.so\0\x03dev/console")
put("cpio_path", "odd", b"\x01/abs\0\x01a//b\0\x01./c\0\x01d/./e\0\x01f/\0\x00/\0\x01g/../h\0\x01..")
