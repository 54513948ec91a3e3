#include "v86/state.hpp"

#include <sys/stat.h>

#include <charconv>

#include <fmt/format.h>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/file_util.hpp"
#include "core/log.hpp"

namespace qb::v86 {

// Format, one record per line (paths are length-prefixed, so any byte may occur):
//   quickboot-v86-state 1
//   source <len>:<path>
//   zstd <level>
//   dirmtime <ns>
//   B <hex64> <name>
//   E <dev> <ino> <size> <mtime_ns> <ctime_ns> <mode> <hex64|-> <len>:<path>
static constexpr std::string_view magic = "quickboot-v86-state 1\n";

StatRecord record_of(const Entry& e) {
  StatRecord r{e.dev, e.ino, e.size, e.mtime_ns, e.ctime_ns, e.mode, std::nullopt};
  if (e.hashed) r.digest = e.digest;
  return r;
}

bool unchanged(const StatRecord& o, const Entry& c, std::int64_t written_ns) {
  return o.digest && o.dev == c.dev && o.ino == c.ino && o.size == c.size && o.mtime_ns == c.mtime_ns &&
         o.ctime_ns == c.ctime_ns && o.mode == c.mode && o.mtime_ns < written_ns && o.ctime_ns < written_ns;
}

namespace {

struct Parser {
  std::string_view s;
  std::size_t p = 0;
  bool ok = true;

  std::string_view word() {
    auto e = s.find_first_of(" \n", p);
    if (e == std::string_view::npos) { ok = false; return {}; }
    auto w = s.substr(p, e - p);
    p = e + (s[e] == ' ' ? 1 : 0);
    return w;
  }
  template <class T> T num() {
    auto w = word();
    T v{};
    if (std::from_chars(w.data(), w.data() + w.size(), v).ec != std::errc()) ok = false;
    return v;
  }
  std::string_view sized() {
    auto len = num_until<std::size_t>(':');
    if (!ok || p + len > s.size()) { ok = false; return {}; }
    auto v = s.substr(p, len);
    p += len;
    return v;
  }
  template <class T> T num_until(char sep) {
    auto e = s.find(sep, p);
    if (e == std::string_view::npos) { ok = false; return {}; }
    T v{};
    if (std::from_chars(s.data() + p, s.data() + e, v).ec != std::errc()) ok = false;
    p = e + 1;
    return v;
  }
  void eol() {
    if (p < s.size() && s[p] == '\n') ++p;
    else ok = false;
  }
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// By hand: std::from_chars per byte was an eighth of a one-file re-export (callgrind).
bool parse_hex(std::string_view h, Digest& d) {
  if (h.size() != 64) return false;
  for (std::size_t i = 0; i < 32; ++i) {
    int hi = hex_value(h[2 * i]), lo = hex_value(h[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    d[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

} // namespace

std::optional<State> load_state(const std::filesystem::path& file) {
  struct stat st{};
  if (::stat(file.c_str(), &st) != 0) return std::nullopt;
  std::string text;
  try {
    text = read_file(file);
  } catch (const Error& e) {
    log::warn("{}; exporting everything again", e.what());
    return std::nullopt;
  }
  if (!text.starts_with(magic)) return std::nullopt;
  State s;
  s.written_ns = std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  Parser ps{text, magic.size()};
  while (ps.ok && ps.p < text.size()) {
    auto kind = ps.word();
    if (kind == "source") s.source = ps.sized();
    else if (kind == "zstd") s.zstd_level = ps.num<int>();
    else if (kind == "dirmtime") s.dir_mtime_ns = ps.num<std::int64_t>();
    else if (kind == "B") {
      Digest d{};
      auto hex = ps.word();
      auto name = ps.word();
      if (!parse_hex(hex, d)) ps.ok = false;
      s.blobs.emplace(std::string(name), d);
    } else if (kind == "E") {
      StatRecord r;
      r.dev = ps.num<std::uint64_t>();
      r.ino = ps.num<std::uint64_t>();
      r.size = ps.num<std::uint64_t>();
      r.mtime_ns = ps.num<std::int64_t>();
      r.ctime_ns = ps.num<std::int64_t>();
      r.mode = ps.num<std::uint32_t>();
      auto hex = ps.word();
      if (hex != "-") {
        Digest d{};
        if (!parse_hex(hex, d)) ps.ok = false;
        r.digest = d;
      }
      s.entries.emplace(std::string(ps.sized()), r);
    } else {
      ps.ok = false;
    }
    ps.eol();
  }
  if (!ps.ok) {
    log::warn("{} is damaged; exporting everything again", file.string());
    return std::nullopt;
  }
  return s;
}

void save_state(const std::filesystem::path& file, const State& s) {
  std::string out(magic);
  out.reserve(s.entries.size() * 120 + s.blobs.size() * 90);
  auto it = std::back_inserter(out);
  fmt::format_to(it, "source {}:{}\nzstd {}\ndirmtime {}\n", s.source.size(), s.source, s.zstd_level, s.dir_mtime_ns);
  for (auto& [name, d] : s.blobs) fmt::format_to(it, "B {} {}\n", to_hex(d), name);
  for (auto& [path, r] : s.entries)
    fmt::format_to(it, "E {} {} {} {} {} {} {} {}:{}\n", r.dev, r.ino, r.size, r.mtime_ns, r.ctime_ns, r.mode,
                   r.digest ? to_hex(*r.digest) : "-", path.size(), path);
  AtomicFile f(file);
  f.write(out);
  f.commit(true);
}

} // namespace qb::v86
