// The ELF inspection of a vmlinux (architecture, PVH note): never throws, never reads
// outside the input.
#include <cstdint>

#include "kernel/elf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A copy of exactly `size` bytes, so ASan sees any read past the end.
  std::string d(reinterpret_cast<const char*>(data), size);
  (void)qb::kernel::inspect_elf(std::string_view(d.data(), d.size()));
  return 0;
}
