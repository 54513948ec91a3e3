#include "initramfs/sysroot.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"
#include "initramfs/path_components.hpp"

namespace qb::initramfs {

fs::path path_in_root(const fs::path& root, const std::string& guest, bool follow_last) {
  std::vector<std::string> todo;
  push_components(todo, guest);
  fs::path done = root;
  std::size_t depth = 0;  // components of `done` below the root
  int hops = 0;
  while (!todo.empty()) {
    std::string c = std::move(todo.back());
    todo.pop_back();
    if (c == ".") continue;
    if (c == "..") {
      if (depth > 0) {
        done = done.parent_path();
        --depth;
      }
      continue;
    }
    fs::path next = done / c;
    struct stat st{};
    if ((!todo.empty() || follow_last) && ::lstat(next.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      if (++hops > 40) throw Error(fmt::format("{} in {}: too many levels of symlinks", guest, root.string()));
      std::string target(static_cast<std::size_t>(st.st_size) + 256, '\0');
      ssize_t n = ::readlink(next.c_str(), target.data(), target.size());
      if (n < 0) throw Error::from_errno("cannot read the symlink", next);
      target.resize(static_cast<std::size_t>(n));
      if (!target.empty() && target.front() == '/') {
        done = root;
        depth = 0;
      }
      push_components(todo, target);
      continue;
    }
    done = std::move(next);
    ++depth;
  }
  return done;
}

} // namespace qb::initramfs
