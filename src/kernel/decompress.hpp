#pragma once
// Decompresses a bzImage payload to the ELF vmlinux with library decoders: zlib,
// liblzma (xz and lzma-alone), libzstd, and libarchive's raw reader for bzip2, lz4, lzo.
#include <cstddef>
#include <string>
#include <string_view>

#include "kernel/bzimage.hpp"

namespace qb::kernel {

// Throws Error naming `what` when the data is corrupt or the method is unsupported.
// Bytes after the end of the compressed stream are ignored. `size_hint` (0: unknown)
// sizes the output buffer.
std::string decompress(Compression c, std::string_view data, std::size_t size_hint,
                       std::string_view what);

} // namespace qb::kernel
