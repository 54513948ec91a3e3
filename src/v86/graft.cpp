#include "v86/graft.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "v86/fs_json.hpp"

namespace qb::v86 {

std::uint32_t graft_tree(Tree& tree, const std::string& at, Tree&& sub, const struct stat& dir_st) {
  const auto first = static_cast<std::uint32_t>(tree.entries.size());
  auto make_dir = [&](const std::string& path, std::int32_t parent) {
    Entry d;
    d.path = path;
    d.mode = dir_st.st_mode;
    d.uid = dir_st.st_uid;
    d.gid = dir_st.st_gid;
    d.mtime_ns = std::int64_t(dir_st.st_mtim.tv_sec) * 1000000000 + dir_st.st_mtim.tv_nsec;
    d.ctime_ns = std::int64_t(dir_st.st_ctim.tv_sec) * 1000000000 + dir_st.st_ctim.tv_nsec;
    d.dev = dir_st.st_dev;
    d.ino = dir_st.st_ino;
    d.parent = parent;
    tree.entries.push_back(std::move(d));
    auto i = static_cast<std::uint32_t>(tree.entries.size() - 1);
    (parent < 0 ? tree.root : tree.entries[static_cast<std::size_t>(parent)].children).push_back(i);
    return i;
  };
  // Down to `at`, creating what is missing.
  std::int32_t parent = -1;
  std::string path;
  for (std::size_t pos = 0; pos <= at.size();) {
    std::size_t slash = at.find('/', pos);
    if (slash == std::string::npos) slash = at.size();
    std::string name = at.substr(pos, slash - pos);
    bool last = slash == at.size();
    path += (path.empty() ? "" : "/") + name;
    auto& kids = parent < 0 ? tree.root : tree.entries[static_cast<std::size_t>(parent)].children;
    std::int32_t found = -1;
    for (auto k : kids)
      if (tree.entries[k].name() == name) found = static_cast<std::int32_t>(k);
    if (found >= 0 && last) throw Error(fmt::format("cannot add {}: the tree has it already", at));
    if (found >= 0 && !tree.entries[static_cast<std::size_t>(found)].is_dir())
      throw Error(fmt::format("cannot add {}: {} in the tree is not a directory", at, path));
    parent = found >= 0 ? found : static_cast<std::int32_t>(make_dir(path, parent));
    pos = slash + 1;
  }
  const auto top = static_cast<std::uint32_t>(parent);
  const auto offset = static_cast<std::uint32_t>(tree.entries.size());
  for (auto& e : sub.entries) {
    e.path = at + "/" + e.path;
    e.name_at = ~0u;
    e.parent = e.parent < 0 ? static_cast<std::int32_t>(top) : e.parent + static_cast<std::int32_t>(offset);
    for (auto& c : e.children) c += offset;
    tree.entries.push_back(std::move(e));
  }
  for (auto r : sub.root) tree.entries[top].children.push_back(r + offset);
  sort_children(tree);
  return first;
}

} // namespace qb::v86
