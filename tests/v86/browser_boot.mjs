// Opens a served v86 bundle (quickboot serve) in headless Chromium, driven by
// puppeteer-core, and waits for a marker on the guest's serial console (the page's
// #serial textarea). Counts every blob response the page got (the 9p reads of the boot)
// and every failed request.
// usage: node browser_boot.mjs NODE_MODULES URL MARKER TIMEOUT_S USER_DATA_DIR SERIAL_OUT [STALL_S]
// Prints one JSON line: {"marker_after_s", "blob_responses", "blob_network", "blob_bytes",
// "failed": [...], "page_errors": [...], "stalled_after_s", "inflight": [...],
// "console": [...], "stall": {...}}. Exit 0 when the marker came and nothing failed.
// With STALL_S, a serial console silent for that long ends the wait early
// ("stalled_after_s"); what was then still being fetched ("inflight", with its age),
// the page's last console messages and "stall" (CPU progress, open 9p reads, whether a
// byte on the serial line woke the guest) are there to say why.
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";

const [modules, url, marker, timeoutS, userDataDir, serialOut, stallS = "0"] = process.argv.slice(2);
const require = createRequire(modules + "/");
const puppeteer = require("puppeteer-core");

const browser = await puppeteer.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  userDataDir,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
// At a stall: is the emulated CPU still executing, which 9p reads are open, and does a
// byte on the serial line (an interrupt) bring the guest back?
async function diagnoseStall() {
  const d = await page.evaluate(async () => {
    if (typeof emulator === "undefined") return { error: "no emulator object" };
    const c1 = emulator.get_instruction_counter() >>> 0;
    await new Promise((r) => setTimeout(r, 5000));
    const c2 = emulator.get_instruction_counter() >>> 0;
    const reads = [...window.__qbReads].map(([n, t]) => `${((Date.now() - t) / 1000).toFixed(0)}s ${n}`);
    return { running: emulator.is_running(), instructions_in_5s: (c2 - c1) >>> 0, open_9p_reads: reads };
  });
  const before = (await page.evaluate(() => document.getElementById("serial").value)).length;
  await page.evaluate(() => typeof emulator !== "undefined" && emulator.serial0_send("\n"));
  d.serial_after_poke = false;
  for (let i = 0; i < 30 && !d.serial_after_poke; i++) {
    await new Promise((r) => setTimeout(r, 2000));
    d.serial_after_poke = (await page.evaluate(() => document.getElementById("serial").value)).length !== before;
  }
  return d;
}

const started = Date.now();
const stats = { marker_after_s: null, blob_responses: 0, blob_network: 0, blob_bytes: 0, failed: [], page_errors: [],
                stalled_after_s: null, inflight: [], console: [] };
const inflight = new Map();  // request -> when it was sent
const consoleLines = [];
const isBlob = (u) => /\/[0-9a-f]{8}([0-9a-f]{56})?\.bin(\.zst)?$/.test(new URL(u).pathname);
const page = await browser.newPage();
page.on("request", (r) => inflight.set(r, Date.now()));
page.on("requestfinished", (r) => inflight.delete(r));
page.on("console", (m) => {
  consoleLines.push(`${((Date.now() - started) / 1000).toFixed(1)} ${m.type()}: ${m.text()}`.slice(0, 400));
  if (consoleLines.length > 40) consoleLines.shift();
});
page.on("response", (r) => {
  if (r.status() >= 400) stats.failed.push(`${r.status()} ${r.url()}`);
  if (!isBlob(r.url())) return;
  stats.blob_responses++;
  if (!r.fromCache()) stats.blob_network++;
  stats.blob_bytes += Number(r.headers()["content-length"] || 0);
});
page.on("requestfailed", (r) => {
  inflight.delete(r);
  // The page's live-reload stream is cancelled when the browser closes; not a failure.
  if (!r.url().endsWith("/.quickboot/events")) stats.failed.push(`${r.failure()?.errorText} ${r.url()}`);
});
page.on("pageerror", (e) => stats.page_errors.push(String(e)));

await page.goto(url, { waitUntil: "load" });
// The page's v86 reports each 9p read that waits for a blob: the reads still open at a
// stall say whether the guest waits for the network or for something else.
await page.evaluate(() => {
  window.__qbReads = new Map();
  if (typeof emulator === "undefined") return;
  emulator.add_listener("9p-read-start", ([name]) => window.__qbReads.set(name, Date.now()));
  emulator.add_listener("9p-read-end", ([name]) => window.__qbReads.delete(name));
});
let serial = "";
const deadline = started + Number(timeoutS) * 1000;
let lastChange = Date.now();
while (Date.now() < deadline) {
  const now = await page.evaluate(() => document.getElementById("serial").value);
  if (now.length !== serial.length) lastChange = Date.now();
  serial = now;
  if (serial.includes(marker)) {
    stats.marker_after_s = Number(((Date.now() - started) / 1000).toFixed(1));
    break;
  }
  if (Number(stallS) > 0 && Date.now() - lastChange > Number(stallS) * 1000) {
    stats.stalled_after_s = Number(((lastChange - started) / 1000).toFixed(1));
    stats.stall = await diagnoseStall();
    break;
  }
  await new Promise((r) => setTimeout(r, 2000));
}
for (const [r, t] of inflight) {
  const u = r.url();
  if (!u.endsWith("/.quickboot/events") && !u.startsWith("blob:") && !u.startsWith("data:")) stats.inflight.push(`${((Date.now() - t) / 1000).toFixed(0)}s ${u}`);
}
stats.console = consoleLines;
writeFileSync(serialOut, serial);
await browser.close();
console.log(JSON.stringify(stats));
if (stats.marker_after_s === null) console.error(`browser_boot: no '${marker}' after ${timeoutS} s; serial tail:\n${serial.slice(-3000)}`);
process.exit(stats.marker_after_s !== null && stats.failed.length === 0 ? 0 : 1);
