#!/usr/bin/env bash
# make_tree.sh DIR: a small tree with every case of docs/v86-format.md that needs no
# privilege: files, equal contents, hard links, empty file, symlinks (dangling, to a
# dir), fifo, socket, device nodes (root only), odd names, nested dirs, odd modes.
set -euo pipefail
d=$1
mkdir -p "$d/etc" "$d/bin" "$d/usr/share/doc" "$d/empty-dir" "$d/dev"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$d/etc/passwd"
printf 'hello\n' > "$d/usr/share/doc/a.txt"
printf 'hello\n' > "$d/usr/share/doc/b.txt"   # equal content: one blob
: > "$d/etc/empty"
ln "$d/etc/passwd" "$d/etc/passwd.hardlink"
ln -s ../etc/passwd "$d/bin/passwd-link"
ln -s /nonexistent/target "$d/bin/dangling"
ln -s ../usr "$d/bin/usr-dir"
mkfifo "$d/dev/fifo"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$d/dev/sock"
if [ "$(id -u)" = 0 ]; then mknod "$d/dev/null" c 1 3; mknod "$d/dev/loop9" b 7 9; fi
printf 'x' > "$d/name with spaces \"quotes\" and \\backslash"
printf 'y' > "$d/unicode-été-日本-😀"
printf '#!/bin/sh\necho hi\n' > "$d/bin/script"; chmod 4755 "$d/bin/script"
head -c 700000 /dev/urandom > "$d/usr/share/big.bin"   # streamed (above the chunk size)
touch -d '2001-02-03 04:05:06' "$d/etc/passwd"
chmod 0600 "$d/etc/empty"
if [ "$(id -u)" = 0 ]; then chown -h 1234:5678 "$d/bin/script" "$d/bin/dangling"; fi
