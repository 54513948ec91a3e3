#pragma once
// Whole-file decompression through libarchive's filters (gzip, xz, zstd, lz4, bzip2,
// lzma), for kernel modules shipped compressed: busybox's insmod cannot load .ko.zst.
#include <filesystem>
#include <string>

namespace qb::initramfs {

// The content of `path`, decompressed when it is compressed. Throws Error naming it.
std::string read_maybe_compressed(const std::filesystem::path& path);

} // namespace qb::initramfs
