#pragma once
// The bootable v86 bundle beside an export: the i686 kernel, an initramfs built for v86
// (9p_root over host9p, the 32-bit modules, keyboard drivers) and an index.html that
// boots the whole set with the v86 npm package.
#include <filesystem>
#include <string>

#include "kernel/store.hpp"

namespace qb::cli {

struct BundleResult {
  std::filesystem::path bzimage, initrd, index_html;
  std::uint64_t initrd_bytes = 0;
  bool runtime_copied = false;  // libv86.js, v86.wasm and the BIOS images copied into DIR/v86/
  std::string cmdline;
};

// Throws Error naming the kernel when it is not i686: v86 emulates a 32-bit x86.
void require_v86_kernel(const kernel::KernelEntry& k);

// Throws Error for a kernel that is not i686 (v86 emulates a 32-bit x86).
BundleResult write_v86_bundle(const std::filesystem::path& out, const kernel::KernelEntry& k);

} // namespace qb::cli
