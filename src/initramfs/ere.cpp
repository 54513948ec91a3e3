#include "initramfs/ere.hpp"

#include <cctype>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"

namespace qb::initramfs {

Ere::Ere(const std::string& pattern, std::string_view where) {
  int rc = ::regcomp(&re_, pattern.c_str(), REG_EXTENDED | REG_NOSUB);
  if (rc != 0) {
    char msg[256];
    ::regerror(rc, &re_, msg, sizeof msg);
    throw Error(fmt::format("{}: the pattern '{}' is not an extended regular expression: {}", where, pattern, msg),
                "fix the pattern in the hook (it is read as `grep -E` reads it)");
  }
  compiled_ = true;
}

Ere::~Ere() {
  if (compiled_) ::regfree(&re_);
}

Ere::Ere(Ere&& other) noexcept : re_(other.re_), compiled_(other.compiled_) { other.compiled_ = false; }

bool Ere::search(std::string_view text) const {
  // REG_STARTEND: the text is a view (not NUL-terminated, may hold NULs).
  regmatch_t m{0, static_cast<regoff_t>(text.size())};
  return ::regexec(&re_, text.data(), 1, &m, REG_STARTEND) == 0;
}

namespace {

bool is_line_start(std::string_view data, std::size_t at) {
  return at == 0 || data[at - 1] == '\0' || data[at - 1] == '\n';
}

// The alternatives of a pattern made only of names and '|' (every symbol pattern the
// hooks use), or nothing when it has other regex syntax.
std::vector<std::string_view> literal_alternatives(std::string_view pattern) {
  std::vector<std::string_view> out;
  for (char c : pattern)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '|')) return {};
  std::size_t i = 0;
  while (i <= pattern.size()) {
    std::size_t j = pattern.find('|', i);
    if (j == std::string_view::npos) j = pattern.size();
    if (j == i) return {};  // an empty alternative matches every line: leave it to regexec
    out.push_back(pattern.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

} // namespace

bool any_line_starts_with(std::string_view data, const std::string& pattern, std::string_view where) {
  const auto literals = literal_alternatives(pattern);
  if (!literals.empty()) {
    // memmem over the whole module, then the line-start check: no per-line work.
    for (std::string_view lit : literals)
      for (const char* p = data.data(); p + lit.size() <= data.data() + data.size();) {
        const void* hit = ::memmem(p, static_cast<std::size_t>(data.data() + data.size() - p), lit.data(), lit.size());
        if (!hit) break;
        const auto at = static_cast<std::size_t>(static_cast<const char*>(hit) - data.data());
        if (is_line_start(data, at)) return true;
        p = static_cast<const char*>(hit) + 1;
      }
    return false;
  }
  const Ere re("^(" + pattern + ")", where);
  for (std::size_t i = 0; i < data.size();) {
    std::size_t j = data.find_first_of(std::string_view("\0\n", 2), i);
    if (j == std::string_view::npos) j = data.size();
    if (j > i && re.search(data.substr(i, j - i))) return true;
    i = j + 1;
  }
  return false;
}

} // namespace qb::initramfs
