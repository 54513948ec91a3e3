#pragma once
// What `quickboot serve` says about a file: its Content-Type, how long a browser may
// cache it, and which bytes a Range header asks for. Pure functions, unit-tested.
#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qb::serve {

// By extension; v86 needs application/wasm for streaming compilation of v86.wasm.
std::string_view content_type(std::string_view name);

// A blob named after its content (docs/export.md: <8 or 64 hex of the SHA-256>.bin,
// .bin.zst) never changes under that name, so browsers may keep it for a year without
// asking again. Everything else (fs.json, index.html, the kernel) is re-validated.
bool is_content_named(std::string_view name);
std::string_view cache_control(std::string_view name);

// A strong validator from the inode, size and mtime: fs.json is replaced by rename, so
// each export gets a new one.
std::string etag(const struct stat& st);

struct ByteRange {
  std::uint64_t first = 0, length = 0;
};

// The outcome of a Range header against a file of `size` bytes:
// - nullopt: no usable single range (absent, several ranges, or not "bytes="): send it all;
// - unsatisfiable: every byte asked for lies past the end (416);
// - otherwise the one range, clipped to the file, as RFC 9110 says.
struct RangeResult {
  bool unsatisfiable = false;
  ByteRange range;
};
std::optional<RangeResult> parse_range(std::string_view header, std::uint64_t size);

} // namespace qb::serve
