#pragma once
// Paths of the system an image is built from (the host's / or a --rootfs), looked up as
// that system itself would see them: every symlink inside it followed, absolute targets
// taken from its root, `..` never climbing above it. A rootfs is untrusted input: its
// /lib -> /home/you link names the rootfs's /home/you, never the host's.
#include <filesystem>
#include <string>

namespace qb::initramfs {

namespace fs = std::filesystem;

// The host path of `guest` (absolute, or relative to the root) inside `root`, with every
// component resolved; the last one too when `follow_last`. The result may not exist.
// Throws Error on a symlink loop.
fs::path path_in_root(const fs::path& root, const std::string& guest, bool follow_last = true);

} // namespace qb::initramfs
