#pragma once
// Putting a built image where the user asked for it (`initrd build -o`).
#include <filesystem>

namespace qb::initramfs {

namespace fs = std::filesystem;

// Copies `image` to `out` atomically: the previous `out` stays intact on failure.
// When `out` is still the copy a previous call made of this very `image` (same image
// identity; `out` untouched since: same inode, size, mtime and ctime, which no one can
// set back), nothing is copied. Returns whether a copy was made.
bool install_image(const fs::path& image, const fs::path& out);

} // namespace qb::initramfs
