#include "serve/http_policy.hpp"

#include <charconv>

#include <fmt/format.h>

namespace qb::serve {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::optional<std::uint64_t> number(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

} // namespace

std::string_view content_type(std::string_view name) {
  struct Kind { std::string_view ext, type; };
  static constexpr Kind kinds[] = {
      {".wasm", "application/wasm"},
      {".json", "application/json"},
      {".js", "text/javascript"},
      {".mjs", "text/javascript"},
      {".html", "text/html; charset=utf-8"},
      {".css", "text/css"},
      {".txt", "text/plain; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".zst", "application/zstd"},
  };
  for (auto& k : kinds)
    if (ends_with(name, k.ext)) return k.type;
  // .bin blobs, bzImage, initrd.img, BIOS images: bytes.
  return "application/octet-stream";
}

bool is_content_named(std::string_view name) {
  std::string_view stem = name;
  if (ends_with(stem, ".zst")) stem.remove_suffix(4);
  if (!ends_with(stem, ".bin")) return false;
  stem.remove_suffix(4);
  return (stem.size() == 8 || stem.size() == 64) && is_hex(stem);
}

std::string_view cache_control(std::string_view name) {
  return is_content_named(name) ? "public, max-age=31536000, immutable" : "no-cache";
}

std::string etag(const struct stat& st) {
  return fmt::format("\"{:x}-{:x}-{:x}.{:x}\"", st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

std::optional<RangeResult> parse_range(std::string_view h, std::uint64_t size) {
  constexpr std::string_view unit = "bytes=";
  if (h.substr(0, unit.size()) != unit) return std::nullopt;
  h.remove_prefix(unit.size());
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
  // Several ranges would need multipart/byteranges; nobody that loads v86 asks for them,
  // and RFC 9110 lets a server answer with the whole file instead.
  if (h.find(',') != std::string_view::npos) return std::nullopt;
  auto dash = h.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto a = h.substr(0, dash), b = h.substr(dash + 1);
  RangeResult r;
  if (a.empty()) {  // "-N": the last N bytes
    auto n = number(b);
    if (!n) return std::nullopt;
    if (*n == 0 || size == 0) return RangeResult{true, {}};
    std::uint64_t len = std::min(*n, size);
    r.range = {size - len, len};
    return r;
  }
  auto first = number(a);
  if (!first) return std::nullopt;
  std::uint64_t last = size ? size - 1 : 0;
  if (!b.empty()) {
    auto l = number(b);
    if (!l || *l < *first) return std::nullopt;  // invalid: ignored, as RFC 9110 says
    last = std::min(*l, last);
  }
  if (*first >= size) return RangeResult{true, {}};
  r.range = {*first, last - *first + 1};
  return r;
}

} // namespace qb::serve
