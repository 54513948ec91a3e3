#!/usr/bin/env bash
# Hostile `kernel add` inputs (issue 15, item 9): a small .deb holding many large,
# highly compressible kernel images (memory stays bounded: one image kept, not all of
# them), and a bzImage whose zstd payload inflates to 8 GB (refused at 512 MiB with an
# error saying why). Figures are max RSS from /usr/bin/time; the limits asserted are
# far above what a real kernel needs and far below what the old code took.
source "$(dirname "$0")/../common.inc"
command -v zstd >/dev/null || skip "zstd missing"
[[ -x /usr/bin/time ]] || skip "/usr/bin/time missing"
rss_kb() { awk '/Maximum resident/ {print $6}' "$1"; }

# A synthetic bzImage (tests/fuzz/make_seeds.py's, the layout of bzimage_test.cpp): a
# boot header with version string VERSION, PAYLOAD (a file, or - for a gzip magic and
# zeros) as the compressed kernel, then PAD zero bytes.
make_bzimage() {  # OUT VERSION PAYLOAD PAD
  PYTHONDONTWRITEBYTECODE=1 python3 - "$QB_SOURCE_DIR/tests/fuzz" "$@" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from make_seeds import bzimage
out, version, payload, pad = sys.argv[2], sys.argv[3].encode(), sys.argv[4], int(sys.argv[5])
data = bzimage(b"\x1f\x8b" + b"\0" * 62 if payload == "-" else open(payload, "rb").read(), version)
with open(out, "wb") as f:
    f.write(data)
    f.truncate(len(data) + pad)
PY
}

# 1. A .deb of 12 kernel images, each 100 MB (zeros after a real header), 12 releases.
mkdir -p "$T/deb/boot"
for i in $(seq 12); do
  make_bzimage "$T/deb/boot/vmlinuz-6.1.0-$i-amd64" "6.1.0-$i-amd64 (hostile@test) #1" - $((100 * 1024 * 1024))
done
printf 'CONFIG_X=y\n' > "$T/deb/boot/config-6.1.0-1-amd64"
tar -C "$T/deb" --sort=name -cf - boot | zstd -q -3 -o "$T/data.tar.zst"
rm -rf "$T/deb"
printf '2.0\n' > "$T/debian-binary"
printf 'Package: linux-image-hostile\n' > "$T/control"
tar -C "$T" -cJf "$T/control.tar.xz" control
(cd "$T" && ar rc hostile.deb debian-binary control.tar.xz data.tar.zst)
echo "hostile.deb: $(stat -c %s "$T/hostile.deb") bytes, 12 images of 100 MB"
rc=0; /usr/bin/time -v timeout 600 "$QUICKBOOT" kernel add "$T/hostile.deb" --modules none >/dev/null 2>"$T/err" || rc=$?
[[ $rc -ne 124 ]] || fail "kernel add of the .deb hung"
grep -q "holds several kernels" "$T/err" || { cat "$T/err"; fail ".deb: not the error expected"; }
grep -q "6.1.0-12-amd64" "$T/err" || { cat "$T/err"; fail ".deb: the last release is not listed"; }
rss=$(rss_kb "$T/err"); echo ".deb with 12 large images: max RSS ${rss} KB"
[[ $rss -lt 600000 ]] || fail ".deb with 12 large images took ${rss} KB"
# With --release, the chosen one is found (its payload is garbage: a clear error, no crash).
rc=0; /usr/bin/time -v timeout 600 "$QUICKBOOT" kernel add "$T/hostile.deb" --modules none --release 6.1.0-7-amd64 >/dev/null 2>"$T/err" || rc=$?
[[ $rc -eq 1 ]] || { cat "$T/err"; fail ".deb --release: rc $rc"; }
grep -q "cannot decompress" "$T/err" || { cat "$T/err"; fail ".deb --release: not the error expected"; }
rss=$(rss_kb "$T/err"); echo ".deb --release: max RSS ${rss} KB"
[[ $rss -lt 600000 ]] || fail ".deb --release took ${rss} KB"
rm -f "$T/hostile.deb" "$T/data.tar.zst"

# 2. A bzImage whose zstd payload inflates to 8 GB: refused, saying why.
head -c $((8 * 1024 * 1024 * 1024)) /dev/zero | zstd -q -1 -o "$T/payload.zst"
make_bzimage "$T/bomb" "6.1.0-bomb (hostile@test) #1" "$T/payload.zst" 0
echo "bomb bzImage: $(stat -c %s "$T/bomb") bytes"
rc=0; /usr/bin/time -v timeout 600 "$QUICKBOOT" kernel add "$T/bomb" --modules none >/dev/null 2>"$T/err" || rc=$?
[[ $rc -eq 1 ]] || { cat "$T/err"; fail "zstd bomb: rc $rc"; }
grep -q "zstd payload grows past 512 MiB, larger than any kernel" "$T/err" || { cat "$T/err"; fail "zstd bomb: not the error expected"; }
rss=$(rss_kb "$T/err"); echo "8 GB zstd payload: max RSS ${rss} KB"
[[ $rss -lt 1500000 ]] || fail "zstd bomb took ${rss} KB"
[[ -z $(ls "$QUICKBOOT_HOME"/kernels 2>/dev/null | grep -v '^\.' || true) ]] || fail "a kernel entry was made"
echo "hostile_kernel_inputs: ok"
