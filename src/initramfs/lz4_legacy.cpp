#include "initramfs/lz4_legacy.hpp"

#include <lz4.h>

#include <cstdint>

#include "core/error.hpp"

namespace qb::initramfs {

std::string lz4_legacy_compress(std::string_view data) {
  // Legacy frame: magic 0x184C2102, then blocks of at most 8 MiB, each prefixed by its
  // compressed size (little endian).
  constexpr std::size_t kBlock = 8 << 20;
  auto put32 = [](std::string& s, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  std::string out;
  put32(out, 0x184C2102);
  std::string buf(static_cast<std::size_t>(LZ4_compressBound(kBlock)), '\0');
  for (std::size_t off = 0; off < data.size(); off += kBlock) {
    int in = static_cast<int>(std::min(kBlock, data.size() - off));
    // The fast compressor: HC level 9 costs ~10x the time for a few % in size.
    int n = LZ4_compress_default(data.data() + off, buf.data(), in, static_cast<int>(buf.size()));
    if (n <= 0) throw Error("lz4 compression failed");
    put32(out, static_cast<std::uint32_t>(n));
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
  return out;
}

} // namespace qb::initramfs
