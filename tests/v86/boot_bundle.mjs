// Boots a `quickboot export --kernel` bundle in the real v86 emulator under Node and
// waits for a marker on the serial console.
// usage: node boot_bundle.mjs V86_PACKAGE_DIR BUNDLE_DIR MARKER [TIMEOUT_S]
import path from "node:path";

const [pkg, dir, marker, timeoutS = "240"] = process.argv.slice(2);
const { V86 } = await import(path.join(pkg, "build/libv86.mjs"));
const file = (n) => ({ url: path.join(dir, n) });
const emulator = new V86({
  wasm_path: path.join(pkg, "build/v86.wasm"),
  bios: { url: "/usr/share/seabios/bios.bin" },
  vga_bios: { url: "/usr/share/seabios/vgabios-stdvga.bin" },
  memory_size: 256 * 1024 * 1024,
  vga_memory_size: 8 * 1024 * 1024,
  bzimage: file("bzImage"),
  initrd: file("initrd.img"),
  cmdline: "console=ttyS0 rw tsc=reliable mitigations=off random.trust_cpu=on",
  filesystem: { basefs: path.join(dir, "fs.json"), baseurl: dir + "/" },
  autostart: true,
  disable_keyboard: true,
  disable_mouse: true,
  log_level: 0,
});
let out = "";
const started = Date.now();
const timer = setTimeout(() => {
  console.error(`boot_bundle: no '${marker}' after ${timeoutS} s; serial tail:\n${out.slice(-2000)}`);
  process.exit(1);
}, Number(timeoutS) * 1000);
emulator.add_listener("serial0-output-byte", (byte) => {
  out += String.fromCharCode(byte);
  if (out.includes(marker)) {
    clearTimeout(timer);
    console.log(`boot_bundle: '${marker}' after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    emulator.destroy();
    process.exit(0);
  }
});
