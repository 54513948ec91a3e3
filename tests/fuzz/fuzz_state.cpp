// The export state reader (DIR/.quickboot/state). A state file is trusted only as far
// as its checksum goes, and a checksum is no proof: someone can forge one. So the
// checksum of every input is made valid first, and then whatever load_state accepts
// must be safe to use: every path and symlink target inside the file, lookups sane.
#include <cstdint>
#include <cstring>

#include "core/error.hpp"
#include "fuzz_util.hpp"
#include "v86/state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  qb::fuzz::quiet();
  std::string bytes(reinterpret_cast<const char*>(data), size);
  // Half the inputs keep whatever checksum they carry (the "damaged" path).
  if (size > 0 && (data[0] & 1)) qb::v86::reseal_state(bytes);
  qb::fuzz::InputFile in(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  auto s = qb::v86::load_state(in.path());
  if (!s) return 0;
  std::size_t sum = 0;
  for (const auto& r : s->recs()) {
    auto p = s->path(r);
    sum += p.size();
    if (!p.empty()) sum += static_cast<unsigned char>(p.back());
    if (r.flags & qb::v86::rec_target_stored) {
      auto t = s->target(r);
      if (!t.empty()) sum += static_cast<unsigned char>(t.back());
    }
    if (s->find(p) == nullptr) __builtin_trap();  // accepted entries must be sorted and findable
  }
  return sum == 0xffffffff ? 1 : 0;
}
