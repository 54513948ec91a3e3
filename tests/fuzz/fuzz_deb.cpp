// The kernel package scanner of `kernel add` (.deb: an ar archive holding tar members):
// module trees are written under a scratch directory, kernel images and configs kept.
// Any input gives a result or an Error; memory stays bounded.
#include <cstdint>

#include "core/error.hpp"
#include "fuzz_util.hpp"
#include "kernel/scan.hpp"
#include "kernel/source.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  qb::fuzz::quiet();
  qb::fuzz::InputFile in(data, size);
  auto dir = qb::fuzz::scratch_dir();
  qb::kernel::ScanOptions o;
  o.work = dir / "work";
  std::filesystem::create_directories(o.work);
  try {
    // Both the kind the magic says, and .deb whatever it is (the ar reader is the part
    // most specific to kernel packages).
    auto kind = size > 0 && (data[0] & 1) ? qb::kernel::detect_source(in.path()) : qb::kernel::SourceKind::deb;
    if (kind == qb::kernel::SourceKind::directory || kind == qb::kernel::SourceKind::bzimage) return 0;
    auto r = qb::kernel::scan_archive(in.path(), kind, o);
    (void)r;
  } catch (const qb::Error&) {
  }
  return 0;
}
