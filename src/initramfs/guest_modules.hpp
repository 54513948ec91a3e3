#pragma once
// A kernel's full modules tree as a guest can use it: the store's files (hard-linked,
// no copy) plus a modules.dep computed from the modules themselves, since packages
// ship none. Shared read-only into a rootfs that lacks this kernel's modules.
#include <filesystem>
#include <string>

namespace qb::initramfs {

// Creates `out` once (atomically: built beside it, then renamed) and returns it.
std::filesystem::path guest_modules_dir(const std::filesystem::path& modules_dir, const std::string& release,
                                        const std::filesystem::path& out);

} // namespace qb::initramfs
