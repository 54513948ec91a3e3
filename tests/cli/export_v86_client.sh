#!/usr/bin/env bash
# A real client: the v86 emulator (npm package v86) under Node loads the exported
# fs.json and reads files through its 9p filesystem: plain and zstd blobs, a hard
# link, an empty file, a file above the streaming threshold; a fifo is not visible.
# (Booting an i686 bundle waits for `export --kernel`.)
source "$(dirname "$0")/../common.inc"
V86=$QB_SOURCE_DIR/tests/v86
# Node comes with the machine (scripts/setup.sh does not install it).
command -v node >/dev/null && command -v npm >/dev/null || skip "node or npm not installed"
[ -f /usr/share/seabios/bios.bin ] || { [ -n "${CI:-}" ] && fail "seabios missing in CI"; skip "seabios not installed"; }
pkg=$(bash "$V86/install_v86.sh")
bash "$V86/make_tree.sh" "$T/src"
sum() { sha256sum "$T/src/$1" | cut -d' ' -f1; }
cat > "$T/checks.json" <<JSON
{"files": {
  "/etc/passwd": "$(sum etc/passwd)",
  "/etc/passwd.hardlink": "$(sum etc/passwd)",
  "/etc/empty": "$(sum etc/empty)",
  "/usr/share/big.bin": "$(sum usr/share/big.bin)",
  "/usr/share/doc/b.txt": "$(sum usr/share/doc/b.txt)",
  "/unicode-été-日本-😀": "$(sum 'unicode-été-日本-😀')",
  "/bin/script": "$(sum bin/script)"},
 "absent": ["/dev/fifo", "/nonexistent"]}
JSON
for z in "" "--zstd"; do
  rm -rf "$T/o"
  qb -q export "$T/src" --out "$T/o" $z
  timeout 120 node "$V86/read_fs.mjs" "$pkg" "$T/o" "$T/checks.json" || fail "v86 could not read the export ${z:-plain}"
done
echo "export_v86_client: ok"
