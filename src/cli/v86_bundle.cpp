#include "cli/v86_bundle.hpp"

#include <sys/stat.h>

#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "core/log.hpp"
#include "core/paths.hpp"
#include "initramfs/builder.hpp"
#include "initramfs/busybox.hpp"
#include "kernel/module_index.hpp"

namespace qb::cli {

namespace fs = std::filesystem;

namespace {

const fs::path kSeabios = "/usr/share/seabios/bios.bin";
const fs::path kVgabios = "/usr/share/seabios/vgabios-stdvga.bin";

void copy_atomic(const fs::path& from, const fs::path& to) { write_file_atomic(to, read_file(from)); }

bool has_word(const std::vector<std::string>& words, std::string_view prefix) {
  for (auto& w : words)
    if (w.rfind(prefix, 0) == 0) return true;
  return false;
}

constexpr const char* kIndexHtml = R"HTML(<!doctype html>
<!-- Written by quickboot export --kernel. Serve this directory over HTTP
     (`quickboot serve DIR`, or any static server) and open index.html. -->
<meta charset="utf-8">
<link rel="icon" href="data:,">
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
  cmdline: {cmdline},
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

BundlePlan prepare_v86_bundle(const BundleSpec& spec) {
  require_v86_kernel(spec.kernel);
  std::error_code ec;
  for (auto& f : {kSeabios, kVgabios})
    if (!fs::is_regular_file(f, ec))
      throw Error(fmt::format("the v86 bundle needs SeaBIOS, but {} does not exist", f.string()), "apt-get install seabios");
  BundlePlan p;
  p.spec = spec;
  initramfs::find_or_fetch_busybox(spec.kernel.arch);
  p.runtime = find_or_fetch_v86_runtime();
  // The initramfs: quickboot's runtime with 9p_root over host9p, which is the tag v86
  // gives its 9p device; keyboard drivers for browser input where they are modules.
  initramfs::InitrdSpec is;
  is.kernel = {spec.kernel.release, spec.kernel.arch, spec.kernel.modules_dir};
  is.modules = {"atkbd", "i8042"};
  p.initrd = initramfs::build_initrd(is, quickboot_home() / "initrd");

  // A 9p root needs no hook arguments; `rw` lets the guest write into v86's in-memory
  // copy of the tree; tsc=reliable and mitigations=off spare the emulated CPU.
  // cache=loose: the export cannot change under a running page, and v86 drops a blob's
  // data when the guest closes the file, so without a guest page cache every open
  // fetches the blob again (docs/export.md has the counts).
  std::vector<std::string> words = {"console=ttyS0", "console=tty0", "rw", "tsc=reliable", "mitigations=off",
                                    "random.trust_cpu=on", "rootflags=cache=loose"};
  // The tree's own init (/sbin/init) is the default; a tree without one (debootstrap
  // minbase) gets a shell on the console instead of a boot that stops in the initramfs.
  if (!has_word(spec.append, "init=") && fs::is_directory(spec.source, ec)) {
    struct stat st {};
    if (::lstat((spec.source / "sbin/init").c_str(), &st) != 0) {
      log::notice("{} has no /sbin/init: the page boots init=/bin/sh (pass --append init=PATH for another)",
                  spec.source.string());
      words.push_back("init=/bin/sh");
    }
  }
  // Modules: a tree without lib/modules/<release> for this kernel gets the store's, with
  // depmod's indexes, where the tree's lib is (usr/lib on a merged-/usr Debian), so
  // systemd and udev find autofs4 and friends in the browser too.
  if (fs::is_directory(spec.source, ec) && fs::is_directory(spec.kernel.modules_dir, ec) &&
      !fs::exists(spec.source / "lib/modules" / spec.kernel.release, ec)) {
    std::string lib = "lib";
    if (fs::is_symlink(spec.source / "lib", ec)) {
      auto t = fs::read_symlink(spec.source / "lib", ec).string();
      if (t == "usr/lib" || t == "/usr/lib") lib = "usr/lib";
    }
    if (!kernel::has_module_indexes(spec.kernel.modules_dir))
      kernel::write_module_indexes(spec.kernel.modules_dir, spec.kernel.release);
    p.modules = v86::Graft{lib + "/modules/" + spec.kernel.release, spec.kernel.modules_dir};
    log::notice("{} has no /lib/modules/{}: the export adds the kernel's modules from the store there "
                "(/{}, with depmod's indexes), as if part of the tree",
                spec.source.string(), spec.kernel.release, p.modules->at);
  }
  for (auto& w : spec.append) words.push_back(w);
  for (auto& w : words) p.cmdline += (p.cmdline.empty() ? "" : " ") + w;
  return p;
}

BundleResult write_v86_bundle(const fs::path& out, const BundlePlan& p, std::uint64_t entries) {
  BundleResult r;
  r.bzimage = out / "bzImage";
  r.initrd = out / "initrd.img";
  copy_atomic(p.spec.kernel.bzimage, r.bzimage);
  copy_atomic(p.initrd.image, r.initrd);
  r.initrd_bytes = p.initrd.bytes;
  // v86's own files; the page expects them in v86/.
  fs::create_directories(out / "v86");
  fs::path build = p.runtime.package / "build";
  copy_atomic(build / "libv86.js", out / "v86/libv86.js");
  copy_atomic(build / "v86.wasm", out / "v86/v86.wasm");
  copy_atomic(kSeabios, out / "v86/seabios.bin");
  copy_atomic(kVgabios, out / "v86/vgabios.bin");
  r.runtime_from = p.runtime.package.string() + " (" + p.runtime.found_in + ")";
  r.cmdline = p.cmdline;
  r.index_html = out / "index.html";
  // The command line goes into a JS string: --append words must not end it.
  std::string js_cmdline = nlohmann::json(p.cmdline).dump();
  for (std::size_t i = 0; (i = js_cmdline.find("</", i)) != std::string::npos;) js_cmdline.replace(i, 2, "<\\/");
  write_file_atomic(r.index_html, fmt::format(kIndexHtml, fmt::arg("title", out.filename().string()),
                                              fmt::arg("release", p.spec.kernel.release), fmt::arg("entries", entries),
                                              fmt::arg("cmdline", js_cmdline)));
  return r;
}

} // namespace qb::cli
