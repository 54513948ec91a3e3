// The bzImage scanner of `kernel add`: header parsing, then the payload's
// decompression (bounded: a hostile payload must not take unbounded memory) and the
// ELF inspection of what it gives.
#include <cstdint>

#include "core/error.hpp"
#include "fuzz_util.hpp"
#include "kernel/bzimage.hpp"
#include "kernel/decompress.hpp"
#include "kernel/elf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  qb::fuzz::quiet();
  std::string_view d(reinterpret_cast<const char*>(data), size);
  try {
    auto b = qb::kernel::parse_bzimage(d, "fuzz-input");
    std::string vmlinux = qb::kernel::decompress(b.compression, b.payload, b.uncompressed_size, "fuzz-input");
    (void)qb::kernel::inspect_elf(vmlinux);
  } catch (const qb::Error&) {
  }
  return 0;
}
