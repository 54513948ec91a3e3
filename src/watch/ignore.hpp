#pragma once
// Which paths the watcher ignores.
//
// A pattern without '/' is an fnmatch(3) glob on the base name, anywhere in the tree
// ("*.swp", ".git"). A pattern with '/' is matched against the whole root-relative path
// with FNM_PATHNAME, a leading '/' being optional ("/out", "build/*.o"). A matching
// directory is not watched, so its whole subtree is ignored.
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qb::watch {

// Editor temporaries: vim (*.swp, *.swo, *.swx, 4913, *~), emacs (.#*, #*#).
std::span<const std::string_view> default_ignore_patterns();

class IgnoreRules {
public:
  IgnoreRules() = default;
  IgnoreRules(std::span<const std::string> patterns, std::vector<std::filesystem::path> paths,
              bool with_defaults);

  // `name`: the base name; `rel`: root-relative path; `abs`: absolute path. All three
  // NUL-terminated views of the same entry. No allocation.
  bool ignored(const char* name, const char* rel, std::string_view abs) const;

private:
  std::vector<std::string> names_;  // base-name globs
  std::vector<std::string> paths_;  // root-relative path globs
  std::vector<std::string> absolute_;
};

} // namespace qb::watch
