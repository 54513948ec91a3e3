#include "watch/ignore.hpp"

#include <fnmatch.h>

#include <array>

namespace qb::watch {

std::span<const std::string_view> default_ignore_patterns() {
  static constexpr std::array<std::string_view, 7> patterns{
      "*.swp", "*.swo", "*.swx", "*~", "4913", ".#*", "#*#"};
  return patterns;
}

IgnoreRules::IgnoreRules(std::span<const std::string> patterns,
                         std::vector<std::filesystem::path> paths, bool with_defaults) {
  if (with_defaults)
    for (auto p : default_ignore_patterns()) names_.emplace_back(p);
  for (const auto& p : patterns) {
    if (p.empty()) continue;
    if (p.find('/') == std::string::npos) {
      names_.push_back(p);
    } else {
      std::string_view v = p;
      while (v.starts_with('/')) v.remove_prefix(1);
      while (v.ends_with('/')) v.remove_suffix(1);  // "out/" means the directory "out"
      if (!v.empty()) paths_.emplace_back(v);
    }
  }
  for (auto& p : paths) {
    auto s = p.lexically_normal().string();
    while (s.size() > 1 && s.ends_with('/')) s.pop_back();
    absolute_.push_back(std::move(s));
  }
}

bool IgnoreRules::ignored(const char* name, const char* rel, std::string_view abs) const {
  for (const auto& p : names_)
    if (::fnmatch(p.c_str(), name, 0) == 0) return true;
  for (const auto& p : paths_)
    if (::fnmatch(p.c_str(), rel, FNM_PATHNAME) == 0) return true;
  for (const auto& p : absolute_)
    if (abs == p) return true;  // a subtree below it is never watched, so equality is enough
  return false;
}

} // namespace qb::watch
