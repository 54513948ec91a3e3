#pragma once
// Builds the initramfs: a cached base archive (busybox, runtime, modules) followed by a
// small archive of the hooks and per-build files, which later entries override. Both
// are cached by a key over every input, so an unchanged build is a file copy and a
// hook edit rebuilds only the small part.
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "initramfs/cpio_archive.hpp"

namespace qb::initramfs {

namespace fs = std::filesystem;

enum class Runtime { quickboot, rootfs };

struct KernelInput {
  std::string release;
  std::string arch;        // x86_64 or i686
  fs::path modules_dir;    // lib/modules/<release> as shipped
};

struct InitrdSpec {
  KernelInput kernel;
  std::vector<fs::path> hook_dirs;        // --hooks, highest priority first
  std::optional<fs::path> rootfs;         // its /etc/initcpio and /usr/lib/initcpio are searched too
  std::vector<std::string> hooks;         // user HOOKS, in order (9p_root and quickboot are added)
  std::vector<std::string> modules;       // extra modules
  std::vector<std::pair<fs::path, std::string>> adds;  // --add HOST:GUEST
  Compression compression = Compression::none;
  Runtime runtime = Runtime::quickboot;
  bool default_hooks = true;              // 9p_root first, quickboot last
  std::chrono::seconds hook_timeout{300};  // the install hooks' time in all
  // `autodetect` reads the host's /sys as under mkinitcpio (an image for this machine),
  // instead of caching the modules of quickboot's guest devices.
  bool autodetect_host = false;
};

struct InitrdResult {
  fs::path image;                  // in the cache; copy it, don't edit it
  std::uint64_t bytes = 0;
  std::vector<std::string> modules;  // load order
  std::vector<std::string> hooks;
  bool cached = false;
  std::string key;
  // The two halves, for a snapshot boot: the base archive (busybox, runtime, modules) is
  // the initrd; the overlay (/config, hooks, install-hook files) reaches the guest after
  // the snapshot point. The overlay is kept zstd-compressed: read_overlay_archive.
  fs::path base_image;
  fs::path overlay_archive;
  // The overlay holds modprobe.d settings or firmware: they must be in place before
  // modules load, so such an image is not for snapshot boots.
  bool module_settings = false;
};

// Throws Error for every bad input, naming it and where it was looked for.
InitrdResult build_initrd(const InitrdSpec& spec, const fs::path& cache_dir);

// The uncompressed newc archive of InitrdResult::overlay_archive. Throws Error naming
// the file when it is damaged.
std::string read_overlay_archive(const fs::path& path);

} // namespace qb::initramfs
