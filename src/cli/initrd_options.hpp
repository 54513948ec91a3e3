#pragma once
// Initramfs options shared by `initrd build`, `boot`, `run` and `watch`.
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "initramfs/builder.hpp"
#include "kernel/store.hpp"

namespace qb::cli {

struct InitrdOptions {
  std::optional<std::string> kernel;
  std::vector<std::string> hook_dirs;
  std::vector<std::string> hooks;
  std::vector<std::string> modules;
  std::vector<std::string> adds;  // HOST:GUEST
  std::string compress = "none";
  std::string runtime = "quickboot";
  std::optional<std::string> rootfs;  // for initrd build; boot/run set it from ROOTFS
  unsigned hook_timeout = 300;        // seconds for all install hooks together
  std::string autodetect = "guest";   // whose devices the autodetect hook finds
};

void add_initrd_options(CLI::App& cmd, InitrdOptions& o, bool with_rootfs = true);

// Throws Error for malformed --add values.
initramfs::InitrdSpec make_initrd_spec(const InitrdOptions& o, const kernel::KernelEntry& k);

} // namespace qb::cli
