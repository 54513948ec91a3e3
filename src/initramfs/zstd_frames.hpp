#pragma once
// zstd for initramfs archives, on every core: the modules of a default-HOOKS image are
// 150 MB before compression, and one core compressing them was most of a cold build.
#include <string>
#include <string_view>

namespace qb::initramfs {

// One zstd frame holding `raw` at `level`. Multi-threaded zstd whatever the core count
// (at least one worker), so the bytes are the same on every machine.
std::string zstd_compress(std::string_view raw, int level);

// The content of what zstd_compress made (frames one after the other, zero padding
// allowed after them). Throws Error naming `what` when it is not such data.
std::string zstd_decompress(std::string_view data, std::string_view what);

} // namespace qb::initramfs
