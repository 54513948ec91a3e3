// The cpio writer's path normalisation: whatever names are added (NUL-separated pieces
// of the input; the first byte picks file, directory or symlink), the archive it
// writes must hold no member that leaves the root (an absolute name, a ".." or "."
// component, an empty component) and parents must come before children.
#include <cstdint>
#include <cstring>
#include <set>
#include <string_view>

#include "core/error.hpp"
#include "fuzz_util.hpp"
#include "initramfs/cpio_archive.hpp"

namespace {

bool clean(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.back() == '/') return false;
  for (std::size_t s = 0;;) {
    auto e = name.find('/', s);
    auto c = name.substr(s, e == std::string_view::npos ? std::string_view::npos : e - s);
    if (c.empty() || c == "." || c == "..") return false;
    if (e == std::string_view::npos) return true;
    s = e + 1;
  }
}

unsigned hex(std::string_view h) {
  unsigned v = 0;
  for (char c : h) v = v * 16 + static_cast<unsigned>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  return v;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  qb::fuzz::quiet();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  qb::initramfs::CpioArchive a;
  while (!in.empty()) {
    auto cut = in.find('\0');
    std::string_view piece = in.substr(0, cut);
    in.remove_prefix(cut == std::string_view::npos ? in.size() : cut + 1);
    if (piece.empty()) continue;
    char kind = piece[0];
    std::string path(piece.substr(1));
    try {
      switch (kind & 3) {
      case 0: a.add_dir(path); break;
      case 1: a.add_file(path, "x"); break;
      case 2: a.add_symlink(path, "target"); break;
      default: a.add_char_device(path, 1, 3, 0666); break;
      }
    } catch (const qb::Error&) {
    }
  }
  std::string out = a.write(qb::initramfs::Compression::none);
  // Walk the newc members: 110-byte header, name (padded to 4), data (padded to 4).
  std::set<std::string, std::less<>> seen;
  std::size_t off = 0;
  for (;;) {
    if (off + 110 > out.size() || std::memcmp(out.data() + off, "070701", 6) != 0) __builtin_trap();
    std::string_view h(out.data() + off, 110);
    std::size_t filesize = hex(h.substr(54, 8)), namesize = hex(h.substr(94, 8));
    if (namesize == 0 || off + 110 + namesize > out.size()) __builtin_trap();
    std::string_view name(out.data() + off + 110, namesize - 1);
    off = (off + 110 + namesize + 3) & ~std::size_t{3};
    off = (off + filesize + 3) & ~std::size_t{3};
    if (name == "TRAILER!!!") break;
    if (!clean(name)) __builtin_trap();
    if (auto s = name.rfind('/'); s != std::string_view::npos && !seen.count(name.substr(0, s))) __builtin_trap();
    seen.emplace(name);
  }
  return 0;
}
