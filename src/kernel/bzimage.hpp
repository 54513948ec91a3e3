#pragma once
// The x86 boot-protocol header of a bzImage (Documentation/arch/x86/boot.rst): where the
// compressed payload sits, how it is compressed, and the release string.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace qb::kernel {

enum class Compression { gzip, xz, lzma, zstd, bzip2, lz4, lzo, none, unknown };

std::string_view compression_name(Compression c);

struct BzImage {
  std::string release;        // first word of the version string, e.g. 6.1.0-28-amd64; empty
                              // when missing or not valid_release
  std::string version;        // the whole version string, non-printable bytes as '?'

  std::uint16_t protocol = 0; // e.g. 0x020f
  bool kernel_64 = false;     // XLF_KERNEL_64: has a 64-bit entry point
  Compression compression = Compression::unknown;
  std::string_view payload;   // the compressed vmlinux, a view into the image
  std::uint32_t uncompressed_size = 0;  // from the payload's trailing u32, 0 if unknown
};

// A kernel release usable as a store name and a lib/modules/<release> directory:
// 1-64 printable ASCII characters, starting with a letter or digit, no '/' (so never
// "." or ".."). Images whose header points into binary data fail this.
bool valid_release(std::string_view release);

// `s` with every byte outside printable ASCII as '?': header strings in messages and JSON.
std::string ascii_printable(std::string_view s);

// True when `data` carries the "HdrS" boot-protocol signature at 0x202.
bool has_boot_header(std::string_view data);

// Parses the header of the image `data` read from `name`. Throws Error naming `name`
// when the signature is missing, the image is truncated or the protocol is too old
// (< 2.08, no payload fields).
BzImage parse_bzimage(std::string_view data, const std::filesystem::path& name);

// The compression whose magic starts `payload`.
Compression detect_compression(std::string_view payload);

} // namespace qb::kernel
