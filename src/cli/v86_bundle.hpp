#pragma once
// The bootable v86 bundle beside an export: the i686 kernel, an initramfs built for v86
// (9p_root over host9p, the 32-bit modules, keyboard drivers), v86's own files and an
// index.html that boots the whole set.
//
// Two steps, so that a bundle that cannot be made leaves DIR untouched: prepare checks
// every precondition and fetches what quickboot can fetch (the i686 busybox, the v86
// runtime) into its caches; only then does the export write, and the bundle after it.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli/v86_runtime.hpp"
#include "initramfs/builder.hpp"
#include "kernel/store.hpp"
#include "v86/graft.hpp"

namespace qb::cli {

struct BundleSpec {
  kernel::KernelEntry kernel;
  std::filesystem::path source;       // the exported tree (a directory or an archive)
  std::vector<std::string> append;    // words added to the page's kernel command line
};

struct BundlePlan {
  BundleSpec spec;
  V86Runtime runtime;
  initramfs::InitrdResult initrd;     // built into the store's cache
  std::string cmdline;
  // The kernel's modules from the store, for a tree without lib/modules/<release>.
  std::optional<v86::Graft> modules;
};

struct BundleResult {
  std::filesystem::path bzimage, initrd, index_html;
  std::uint64_t initrd_bytes = 0;
  std::string cmdline, runtime_from;
};

// Throws Error naming the kernel when it is not i686: v86 emulates a 32-bit x86.
void require_v86_kernel(const kernel::KernelEntry& k);

// Checks and prepares everything the bundle needs, writing nothing into the output
// directory. Throws Error (not i686, no busybox and no way to fetch it, no v86 runtime
// and no npm, no SeaBIOS, the initramfs cannot be built).
BundlePlan prepare_v86_bundle(const BundleSpec& spec);

// Writes the bundle into `out` (after the export): `entries` is the export's entry count.
BundleResult write_v86_bundle(const std::filesystem::path& out, const BundlePlan& plan, std::uint64_t entries);

} // namespace qb::cli
