#include "cli/initrd_options.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace qb::cli {

void add_initrd_options(CLI::App& cmd, InitrdOptions& o, bool with_rootfs) {
  cmd.add_option("--kernel", o.kernel, "Kernel ID, ID prefix or release in the store (default: the default kernel)");
  cmd.add_option("--hooks", o.hook_dirs, "Directory with hooks/NAME and install/NAME (repeatable, searched first)")->allow_extra_args(false);
  cmd.add_option("--hook", o.hooks, "Add NAME to HOOKS, in order (repeatable); 9p_root is always first")->allow_extra_args(false);
  cmd.add_option("--module", o.modules, "Add a kernel module and what it needs (repeatable)")->allow_extra_args(false);
  cmd.add_option("--add", o.adds, "Copy a host file into the image: HOST:GUEST (repeatable)")->allow_extra_args(false);
  cmd.add_option("--compress", o.compress, "none, zstd, gzip or lz4 (default none: fastest to build and boot)")
      ->check(CLI::IsMember({"none", "zstd", "gzip", "lz4"}));
  cmd.add_option("--runtime", o.runtime,
                 "quickboot, or rootfs: use the rootfs's own mkinitcpio runtime (/usr/lib/initcpio/init)")
      ->check(CLI::IsMember({"quickboot", "rootfs"}));
  cmd.add_option("--hook-timeout", o.hook_timeout,
                 "Seconds the install hooks may run in all before the build stops, naming the hook (default 300)")
      ->check(CLI::Range(1u, 86400u));
  cmd.add_option("--autodetect", o.autodetect,
                 "guest (default): the autodetect hook keeps the modules of quickboot's QEMU guest devices; host: it "
                 "reads this machine's /sys as mkinitcpio does, for an image that boots here")
      ->check(CLI::IsMember({"guest", "host"}));
  if (with_rootfs)
    cmd.add_option("--rootfs", o.rootfs,
                   "System to build from: its /etc/initcpio and /usr/lib/initcpio hooks are searched (run only when "
                   "named) and hooks' paths are read inside it (docs/initrd.md)");
}

initramfs::InitrdSpec make_initrd_spec(const InitrdOptions& o, const kernel::KernelEntry& k) {
  initramfs::InitrdSpec s;
  s.kernel = {k.release, k.arch, k.modules_dir};
  for (const auto& d : o.hook_dirs) s.hook_dirs.emplace_back(d);
  if (o.rootfs) s.rootfs = std::filesystem::absolute(*o.rootfs);
  s.hooks = o.hooks;
  s.modules = o.modules;
  for (const auto& a : o.adds) {
    auto colon = a.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == a.size())
      throw Error(fmt::format("--add {}: expected HOST:GUEST", a), "e.g. --add ./busybox.conf:/etc/busybox.conf");
    std::string guest = a.substr(colon + 1);
    for (const auto& part : std::filesystem::path(guest))
      if (part == "..")
        throw Error(fmt::format("--add {}: the image path {} has a '..' component", a, guest),
                    "give the file's absolute path in the image, e.g. --add ./x.conf:/etc/x.conf");
    s.adds.emplace_back(a.substr(0, colon), guest);
  }
  s.compression = initramfs::parse_compression(o.compress);
  s.runtime = o.runtime == "rootfs" ? initramfs::Runtime::rootfs : initramfs::Runtime::quickboot;
  s.hook_timeout = std::chrono::seconds(o.hook_timeout);
  s.autodetect_host = o.autodetect == "host";
  return s;
}

} // namespace qb::cli
