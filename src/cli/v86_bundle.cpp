#include "cli/v86_bundle.hpp"

#include <cstdlib>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "core/log.hpp"
#include "core/paths.hpp"
#include "initramfs/builder.hpp"

namespace qb::cli {

namespace fs = std::filesystem;

namespace {

// The v86 npm package's build/ directory: $QUICKBOOT_V86_DIR, else the copy that
// tests/v86/install_v86.sh keeps in ~/.cache/quickboot/npm.
fs::path v86_package() {
  if (const char* d = std::getenv("QUICKBOOT_V86_DIR"); d && *d) return d;
  const char* home = std::getenv("HOME");
  return fs::path(home ? home : "/root") / ".cache/quickboot/npm/node_modules/v86";
}

void copy_atomic(const fs::path& from, const fs::path& to) { write_file_atomic(to, read_file(from)); }

constexpr const char* kIndexHtml = R"HTML(<!doctype html>
<!-- Written by quickboot export --kernel. Serve this directory over HTTP
     (`quickboot serve DIR`, or any static server) and open index.html. -->
<meta charset="utf-8">
<title>quickboot: {title}</title>
<style>body {{ background: #111; color: #ddd; font: 14px monospace; }} #screen {{ margin: 1em 0; }}</style>
<p>{title} — kernel {release}, {entries} files from <code>fs.json</code>, served on demand.</p>
<div id="screen"><div style="white-space: pre; font: 14px monospace; line-height: 14px"></div><canvas style="display: none"></canvas></div>
<textarea id="serial" rows="20" cols="100" readonly></textarea>
<script src="v86/libv86.js"></script>
<script>
"use strict";
const emulator = new V86({{
  wasm_path: "v86/v86.wasm",
  bios: {{ url: "v86/seabios.bin" }},
  vga_bios: {{ url: "v86/vgabios.bin" }},
  memory_size: 256 * 1024 * 1024,
  vga_memory_size: 8 * 1024 * 1024,
  screen_container: document.getElementById("screen"),
  serial_container: document.getElementById("serial"),
  bzimage: {{ url: "bzImage" }},
  initrd: {{ url: "initrd.img" }},
  cmdline: "{cmdline}",
  filesystem: {{ basefs: "fs.json", baseurl: "./" }},
  autostart: true,
}});
// Under `quickboot serve --watch ROOTFS`: the tree was re-exported, boot the new one.
// Any other server answers 404 (or serve without --watch 204) and EventSource gives up.
if (location.protocol.startsWith("http")) {{
  new EventSource(".quickboot/events").addEventListener("reload", () => location.reload());
}}
</script>
)HTML";

} // namespace

void require_v86_kernel(const kernel::KernelEntry& k) {
  if (k.arch != "i686")
    throw Error(fmt::format("kernel {} is {}, but v86 emulates a 32-bit x86 CPU", k.id, k.arch),
                "add an i686 kernel (kernels/debian.sh 686, then quickboot kernel add) and pass its ID");
}

BundleResult write_v86_bundle(const fs::path& out, const kernel::KernelEntry& k) {
  require_v86_kernel(k);
  BundleResult r;
  // The initramfs: quickboot's runtime with 9p_root over host9p, which is the tag v86
  // gives its 9p device; keyboard drivers for browser input where they are modules.
  initramfs::InitrdSpec spec;
  spec.kernel = {k.release, k.arch, k.modules_dir};
  spec.modules = {"atkbd", "i8042"};
  auto built = initramfs::build_initrd(spec, quickboot_home() / "initrd");
  r.bzimage = out / "bzImage";
  r.initrd = out / "initrd.img";
  copy_atomic(k.bzimage, r.bzimage);
  copy_atomic(built.image, r.initrd);
  r.initrd_bytes = built.bytes;

  // v86's own files, when the npm package is at hand; the page expects them in v86/.
  fs::path pkg = v86_package() / "build";
  std::error_code ec;
  if (fs::exists(pkg / "libv86.js", ec) && fs::exists("/usr/share/seabios/bios.bin", ec)) {
    fs::create_directories(out / "v86");
    copy_atomic(pkg / "libv86.js", out / "v86/libv86.js");
    copy_atomic(pkg / "v86.wasm", out / "v86/v86.wasm");
    copy_atomic("/usr/share/seabios/bios.bin", out / "v86/seabios.bin");
    copy_atomic("/usr/share/seabios/vgabios-stdvga.bin", out / "v86/vgabios.bin");
    r.runtime_copied = true;
  } else {
    log::notice("v86 runtime not found in {} (npm install v86) or seabios missing (apt-get install seabios): "
                "copy libv86.js, v86.wasm, seabios.bin and vgabios.bin into {}/v86/ before serving",
                pkg.string(), out.string());
  }
  // A 9p root needs no hook arguments; `rw` lets the guest write into v86's in-memory
  // copy of the tree; tsc=reliable and mitigations=off spare the emulated CPU.
  r.cmdline = "console=ttyS0 console=tty0 rw tsc=reliable mitigations=off random.trust_cpu=on";
  std::size_t entries = 0;
  std::string fsjson = fs::exists(out / "fs.json", ec) ? read_file(out / "fs.json") : std::string();
  for (char c : fsjson) entries += c == '[';
  r.index_html = out / "index.html";
  write_file_atomic(r.index_html, fmt::format(kIndexHtml, fmt::arg("title", out.filename().string()),
                                              fmt::arg("release", k.release), fmt::arg("entries", entries),
                                              fmt::arg("cmdline", r.cmdline)));
  return r;
}

} // namespace qb::cli
