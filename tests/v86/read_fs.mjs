// Loads an exported fs.json + blobs into the real v86 emulator (npm package `v86`)
// under Node and reads files through its 9p filesystem, without booting a guest.
//
// usage: node read_fs.mjs V86_PACKAGE_DIR EXPORT_DIR CHECKS.json
// CHECKS.json: {"files": {"/etc/passwd": "<sha256 hex>", ...}, "absent": ["/dev/fifo"]}
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";

const [pkg, dir, checksFile] = process.argv.slice(2);
const { V86 } = await import(path.join(pkg, "build/libv86.mjs"));
const checks = JSON.parse(readFileSync(checksFile, "utf8"));
const bios = (n) => ({ url: n });

const emulator = new V86({
  wasm_path: path.join(pkg, "build/v86.wasm"),
  bios: bios("/usr/share/seabios/bios.bin"),
  vga_bios: bios("/usr/share/seabios/vgabios-stdvga.bin"),
  memory_size: 32 * 1024 * 1024,
  vga_memory_size: 2 * 1024 * 1024,
  filesystem: { basefs: path.join(dir, "fs.json"), baseurl: dir + "/" },
  autostart: false,
  disable_keyboard: true,
  disable_mouse: true,
  log_level: 0,
});

const timeout = setTimeout(() => { console.error("read_fs: timed out"); process.exit(2); }, 60000);
emulator.add_listener("emulator-loaded", async () => {
  let bad = 0;
  for (const [file, want] of Object.entries(checks.files)) {
    try {
      const data = await emulator.read_file(file);
      const got = createHash("sha256").update(data).digest("hex");
      if (got !== want) { console.error(`read_fs: ${file}: sha256 ${got}, want ${want}`); bad++; }
    } catch (e) {
      console.error(`read_fs: ${file}: ${e}`); bad++;
    }
  }
  for (const file of checks.absent || []) {
    let found = true;
    try { await emulator.read_file(file); } catch { found = false; }
    if (found) { console.error(`read_fs: ${file} should not be visible`); bad++; }
  }
  console.log(`read_fs: ${Object.keys(checks.files).length} files read through v86's 9p filesystem, ${bad} bad`);
  clearTimeout(timeout);
  emulator.destroy();
  process.exit(bad ? 1 : 0);
});
