#include "project/stale.hpp"

#include <fnmatch.h>

#include <fmt/format.h>

#include "core/file_util.hpp"

namespace qb::project {

namespace {

bool has_magic(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

// The directory part of a glob before its first wildcard component.
fs::path glob_base(const std::string& glob) {
  fs::path base;
  for (const auto& part : fs::path(glob)) {
    if (has_magic(part.string())) break;
    base /= part;
  }
  return base;
}

bool glob_match(const std::string& glob, const std::string& rel) {
  if (glob.find("**") != std::string::npos) {
    // `**/` may also match nothing: a/**/b matches a/b.
    std::string collapsed = glob;
    for (auto p = collapsed.find("**/"); p != std::string::npos; p = collapsed.find("**/"))
      collapsed.erase(p, 3);
    return ::fnmatch(glob.c_str(), rel.c_str(), 0) == 0 || ::fnmatch(collapsed.c_str(), rel.c_str(), 0) == 0;
  }
  return ::fnmatch(glob.c_str(), rel.c_str(), FNM_PATHNAME) == 0;
}

} // namespace

std::vector<fs::path> expand_globs(const fs::path& root, const std::vector<std::string>& globs) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& g : globs) {
    fs::path base = root / glob_base(g);
    if (!has_magic(g)) {
      if (fs::is_directory(base, ec)) {
        for (auto it = fs::recursive_directory_iterator(base, fs::directory_options::skip_permission_denied, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
          if (it->is_regular_file(ec)) out.push_back(it->path());
      } else if (fs::exists(base, ec)) {
        out.push_back(base);
      }
      continue;
    }
    if (!fs::is_directory(base, ec)) continue;
    for (auto it = fs::recursive_directory_iterator(base, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (it->is_directory(ec) && (name == ".git" || name == ".quickboot")) {
        it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      if (glob_match(g, it->path().lexically_relative(root).string())) out.push_back(it->path());
    }
  }
  return out;
}

std::optional<std::string> rootfs_stale(const fs::path& root, const fs::path& rootfs, const std::string& command,
                                        const std::vector<std::string>& inputs, const fs::path& stamp) {
  std::error_code ec;
  if (!fs::is_directory(rootfs, ec)) return fmt::format("{} does not exist yet", rootfs.string());
  if (!fs::exists(stamp, ec)) return std::string("it was not built by quickboot up yet");
  std::string last;
  try {
    last = read_file(stamp);
  } catch (...) {
  }
  if (last != command + "\n") return std::string("rootfs.command changed");
  auto built = fs::last_write_time(stamp, ec);
  if (ec) return std::string("the stamp is unreadable");
  for (const auto& f : expand_globs(root, inputs)) {
    auto t = fs::last_write_time(f, ec);
    if (!ec && t > built) return fmt::format("{} changed", f.lexically_relative(root).string());
  }
  return std::nullopt;
}

void write_stamp(const fs::path& stamp, const std::string& command, fs::file_time_type started) {
  write_file_atomic(stamp, command + "\n");
  std::error_code ec;
  fs::last_write_time(stamp, started, ec);
}

} // namespace qb::project
