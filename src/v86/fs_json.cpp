#include "v86/fs_json.hpp"

#include <algorithm>
#include <type_traits>

#include <fmt/format.h>

namespace qb::v86 {

std::string printable(std::string_view path) {
  std::string out;
  for (std::size_t i = 0; i < path.size();) {
    // Copy valid UTF-8 sequences; escape every other byte.
    std::size_t len = 1;
    auto c = static_cast<unsigned char>(path[i]);
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) len = 3;
    else if (c >= 0xf0 && c <= 0xf4) len = 4;
    if ((c < 0x80 && c >= 0x20) || (len > 1 && i + len <= path.size() && valid_utf8(path.substr(i, len)))) {
      out.append(path.substr(i, len));
      i += len;
    } else {
      out += fmt::format("\\x{:02x}", c);
      ++i;
    }
  }
  return out;
}

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned c = *p;
    if (c < 0x80) { ++p; continue; }
    int n;
    std::uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) { n = 1; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { n = 2; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 3; cp = c & 0x07; }
    else return false;
    if (end - p <= n) return false;
    for (int k = 1; k <= n; ++k) {
      if ((p[k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[k] & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    p += n + 1;
  }
  return true;
}

// One code point of valid UTF-8. Never reads at or past `end`, whatever the input: a
// truncated sequence gives what it has (callers pass valid UTF-8; this is the guard).
static std::uint32_t decode(const unsigned char*& p, const unsigned char* end) {
  unsigned c = *p++;
  if (c < 0x80) return c;
  int n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
  std::uint32_t cp = c & (0x3f >> n);
  while (n-- && p < end) cp = (cp << 6) | (*p++ & 0x3f);
  return cp;
}

void append_json_string(std::string& out, std::string_view s) {
  // Most names need no escaping: one append.
  bool plain = true;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') { plain = false; break; }
  }
  if (plain) {
    out.push_back('"');
    out.append(s);
    out.push_back('"');
    return;
  }
  out.push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    std::uint32_t cp = decode(p, end);
    switch (cp) {
    case '"': out += "\\\""; continue;
    case '\\': out += "\\\\"; continue;
    case '\n': out += "\\n"; continue;
    case '\r': out += "\\r"; continue;
    case '\t': out += "\\t"; continue;
    case '\b': out += "\\b"; continue;
    case '\f': out += "\\f"; continue;
    default: break;
    }
    if (cp >= 0x20 && cp < 0x7f) out.push_back(static_cast<char>(cp));
    else if (cp < 0x10000) out += fmt::format("\\u{:04x}", cp);
    else {
      cp -= 0x10000;
      out += fmt::format("\\u{:04x}\\u{:04x}", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    }
  }
  out.push_back('"');
}

void sort_children(Tree& tree) {
  auto by_name = [&](std::uint32_t a, std::uint32_t b) { return tree.entries[a].name() < tree.entries[b].name(); };
  std::sort(tree.root.begin(), tree.root.end(), by_name);
  for (auto& e : tree.entries)
    if (!e.children.empty()) std::sort(e.children.begin(), e.children.end(), by_name);
}

namespace {

struct Renderer {
  const Tree& tree;
  const std::function<void(const Entry&, std::string&)>& blob_name;
  std::string out;
  std::uint64_t total = 0;

  void list(const std::vector<std::uint32_t>& items) {
    out.push_back('[');
    bool first = true;
    for (auto i : items) {
      if (!first) out.push_back(',');
      first = false;
      entry(tree.entries[i]);
    }
    out.push_back(']');
  }

  void entry(const Entry& e) {
    total += e.size;
    out.push_back('[');
    append_json_string(out, e.name());
    // The five numbers go through one stack buffer and one append (std::to_chars):
    // per-number appends were the larger part of rendering 100,000 entries (perf).
    char buf[5 * 24];  // five times ',', a sign and at most 20 digits
    std::size_t n = 0;
    auto num = [&](auto v) {
      using U = std::make_unsigned_t<decltype(v)>;
      buf[n++] = ',';
      U u = static_cast<U>(v);
      if constexpr (std::is_signed_v<decltype(v)>)
        if (v < 0) {
          buf[n++] = '-';
          u = static_cast<U>(U(0) - u);
        }
      char digits[20];
      std::size_t k = 0;
      do {
        digits[k++] = static_cast<char>('0' + u % 10);
        u /= 10;
      } while (u != 0 && k < sizeof digits);
      while (k > 0) buf[n++] = digits[--k];
    };
    num(e.size);
    num(seconds(e.mtime_ns));
    num(e.mode);
    num(e.uid);
    num(e.gid);
    out.append(buf, n);
    if (e.is_dir()) {
      out.push_back(',');
      list(e.children);
    } else if (e.is_lnk()) {
      out.push_back(',');
      append_json_string(out, e.target);
    } else if (e.is_reg()) {
      // Blob names are [0-9a-f.binzst]: no escaping.
      out += ",\"";
      blob_name(e, out);
      out.push_back('"');
    }
    out.push_back(']');
  }
};

} // namespace

std::string render_fs_json(const Tree& tree, const std::function<std::string(const Entry&)>& blob_name) {
  return render_fs_json(tree, [&](const Entry& e, std::string& out) { out += blob_name(e); });
}

std::string render_fs_json(const Tree& tree, const std::function<void(const Entry&, std::string&)>& blob_name) {
  Renderer r{tree, blob_name, {}, 0};
  r.out.reserve(tree.entries.size() * 72 + 64);
  r.out += "{\"fsroot\":";
  r.list(tree.root);
  fmt::format_to(std::back_inserter(r.out), ",\"version\":3,\"size\":{}}}", r.total);
  return std::move(r.out);
}

} // namespace qb::v86
