#include "kernel/bzimage.hpp"

#include <cctype>
#include <cstring>

#include <fmt/format.h>

#include "core/error.hpp"

namespace qb::kernel {

namespace {

template <typename T> T read_le(std::string_view d, std::size_t off) {
  T v{};
  std::memcpy(&v, d.data() + off, sizeof v);  // x86 only: little endian like the header
  return v;
}

constexpr std::size_t hdr_magic = 0x202, hdr_version = 0x206, hdr_kernel_version = 0x20e,
                      hdr_setup_sects = 0x1f1, hdr_xloadflags = 0x236,
                      hdr_payload_offset = 0x248, hdr_payload_length = 0x24c,
                      hdr_end = 0x250;

} // namespace

std::string_view compression_name(Compression c) {
  switch (c) {
  case Compression::gzip: return "gzip";
  case Compression::xz: return "xz";
  case Compression::lzma: return "lzma";
  case Compression::zstd: return "zstd";
  case Compression::bzip2: return "bzip2";
  case Compression::lz4: return "lz4";
  case Compression::lzo: return "lzo";
  case Compression::none: return "none";
  case Compression::unknown: break;
  }
  return "unknown";
}

bool has_boot_header(std::string_view d) {
  return d.size() >= hdr_end && d.substr(hdr_magic, 4) == "HdrS";
}

Compression detect_compression(std::string_view p) {
  auto starts = [&](std::string_view m) { return p.substr(0, m.size()) == m; };
  if (starts("\x1f\x8b")) return Compression::gzip;
  if (starts(std::string_view("\xfd" "7zXZ\0", 6))) return Compression::xz;
  if (starts(std::string_view("\x28\xb5\x2f\xfd", 4))) return Compression::zstd;
  if (starts("BZh")) return Compression::bzip2;
  if (starts(std::string_view("\x02\x21\x4c\x18", 4))) return Compression::lz4;
  if (starts(std::string_view("\x89LZO", 4))) return Compression::lzo;
  if (starts(std::string_view("\x5d\x00\x00", 3))) return Compression::lzma;
  if (starts("\x7f" "ELF")) return Compression::none;
  return Compression::unknown;
}

bool valid_release(std::string_view r) {
  if (r.empty() || r.size() > 64 || !std::isalnum(static_cast<unsigned char>(r.front()))) return false;
  for (unsigned char c : r)
    if (c <= 0x20 || c >= 0x7f || c == '/') return false;
  return true;
}

std::string ascii_printable(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return out;
}

BzImage parse_bzimage(std::string_view d, const std::filesystem::path& name) {
  if (!has_boot_header(d))
    throw Error(fmt::format("{} is not a bzImage: no \"HdrS\" boot header at offset 0x202", name.string()),
                "give a kernel image (vmlinuz/bzImage), a kernel package, an ISO or a rootfs directory");
  BzImage b;
  b.protocol = read_le<std::uint16_t>(d, hdr_version);
  if (b.protocol < 0x0208)
    throw Error(fmt::format("{}: boot protocol {}.{:02} is too old (need 2.08+ for the payload fields)",
                            name.string(), b.protocol >> 8, b.protocol & 0xff),
                "use a kernel newer than 2.6.26");
  b.kernel_64 = (read_le<std::uint16_t>(d, hdr_xloadflags) & 1) != 0;

  std::size_t setup_sects = static_cast<unsigned char>(d[hdr_setup_sects]);
  if (setup_sects == 0) setup_sects = 4;
  std::size_t pm_start = (setup_sects + 1) * 512;
  std::size_t off = pm_start + read_le<std::uint32_t>(d, hdr_payload_offset);
  std::size_t len = read_le<std::uint32_t>(d, hdr_payload_length);
  if (pm_start > d.size() || off > d.size() || len > d.size() - off || len < 4)
    throw Error(fmt::format("{} is truncated: the header puts the {}-byte payload at offset {}, the file has {} bytes",
                            name.string(), len, off, d.size()),
                "the file was cut short; copy or download it again");
  b.payload = d.substr(off, len);
  // Every kernel compressor appends the decompressed size as a little-endian u32.
  b.uncompressed_size = read_le<std::uint32_t>(b.payload, len - 4);
  b.compression = detect_compression(b.payload);

  std::size_t vs = std::size_t{read_le<std::uint16_t>(d, hdr_kernel_version)} + 0x200;
  if (read_le<std::uint16_t>(d, hdr_kernel_version) != 0 && vs < d.size()) {
    auto rest = d.substr(vs, 512);
    b.version = std::string(rest.substr(0, rest.find('\0')));
    b.release = b.version.substr(0, b.version.find(' '));
    // A forged or garbled header: no release (callers ask for --release), and a version
    // that can still be printed and written to JSON.
    if (!valid_release(b.release)) b.release.clear();
    b.version = ascii_printable(b.version);
  }
  return b;
}

} // namespace qb::kernel
