// `quickboot initrd build`: the initramfs for a kernel in the store.
#include <unistd.h>

#include <chrono>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/initrd_options.hpp"
#include "core/file_util.hpp"
#include "core/log.hpp"
#include "core/paths.hpp"
#include "initramfs/builder.hpp"
#include "initramfs/image_install.hpp"
#include "kernel/store.hpp"

namespace qb::cli {

namespace fs = std::filesystem;

void add_initrd_command(CLI::App& app, GlobalOptions& g) {
  auto* initrd = app.add_subcommand("initrd", "Build initramfs images");
  initrd->require_subcommand(1);
  auto* build = initrd->add_subcommand("build",
      "Build a mkinitcpio-compatible initramfs for a kernel in the store: static busybox,\n"
      "quickboot's runtime (or the rootfs's own with --runtime rootfs), the 9p_root hook,\n"
      "your hooks, and exactly the modules they need. Cached: an unchanged build is a\n"
      "cache hit, and an output that is still the copy made last time is left alone.");
  auto opts = std::make_shared<InitrdOptions>();
  auto out = std::make_shared<std::string>();
  add_initrd_options(*build, *opts);
  build->add_option("-o,--output", *out, "Where to write the image (atomically)")->required();
  auto no_cache = std::make_shared<bool>(false);
  build->add_flag("--no-cache", *no_cache, "Build from scratch, ignoring and not filling the cache");
  build->footer(
      "Examples:\n"
      "  quickboot initrd build -o initrd.img\n"
      "  quickboot initrd build --hooks ./initcpio --hook myhook --module overlay -o initrd.img\n"
      "  quickboot initrd build --rootfs ./arch-root --runtime rootfs --hook 9p_root -o initrd.img");
  build->callback([&g, opts, out, no_cache] {
    auto t0 = std::chrono::steady_clock::now();
    kernel::KernelStore store(quickboot_home());
    auto entry = store.resolve(opts->kernel);
    auto spec = make_initrd_spec(*opts, entry);
    fs::path cache = quickboot_home() / "initrd";
    std::optional<fs::path> scratch;
    if (*no_cache) {
      // .initrd-nocache-<pid>.XXXXXX: what a killed --no-cache build left goes next time.
      sweep_orphaned_dirs(quickboot_home(), ".initrd-nocache-");
      cache = *(scratch = make_temp_dir(quickboot_home(), fmt::format(".initrd-nocache-{}", ::getpid())));
    }
    struct Cleanup { std::optional<fs::path>& p; ~Cleanup() { if (p) remove_all_quiet(*p); } } cleanup{scratch};
    auto r = initramfs::build_initrd(spec, cache);
    initramfs::install_image(r.image, *out);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (g.json) {
      print_json({{"path", *out}, {"bytes", r.bytes}, {"modules", r.modules}, {"hooks", r.hooks},
                  {"cached", r.cached}, {"milliseconds", ms}, {"kernel", entry.id}});
    } else {
      log::info("{}: {} bytes, {} modules, hooks: {}{} in {:.1f} ms", *out, r.bytes, r.modules.size(),
                fmt::join(r.hooks, " "), r.cached ? " (cached)" : "", ms);
    }
  });
}

} // namespace qb::cli
