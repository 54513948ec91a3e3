#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/log.hpp"
#include "v86/fs_json.hpp"
#include "v86/source.hpp"

namespace qb::v86 {

bool normalise_path(std::string_view in, std::string& out) {
  out.clear();
  std::size_t i = 0;
  while (i <= in.size()) {
    auto e = in.find('/', i);
    if (e == std::string_view::npos) e = in.size();
    auto comp = in.substr(i, e - i);
    i = e + 1;
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") return false;
    if (!out.empty()) out.push_back('/');
    out.append(comp);
  }
  return true;
}

bool excluded(const SourceOptions& o, std::string_view rel) {
  for (auto& x : o.excludes)
    if (rel == x || (rel.size() > x.size() && rel.starts_with(x) && rel[x.size()] == '/')) return true;
  return false;
}

static void fill_stat(Entry& e, const struct stat& st) {
  e.mode = st.st_mode;
  e.uid = st.st_uid;
  e.gid = st.st_gid;
  e.size = static_cast<std::uint64_t>(st.st_size);
  e.mtime_ns = std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  e.ctime_ns = std::int64_t(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  e.dev = st.st_dev;
  e.ino = st.st_ino;
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) e.size = 0;  // devices, fifos
}

namespace {

struct Walker {
  const SourceOptions& opts;
  std::vector<std::string>& unreadable;
  Tree tree;
  std::string link_buf = std::string(4096, '\0');

  // Lists directory `fd` (whose entry index is `dir`, -1 for the root).
  void walk(int fd, std::int32_t dir, const std::string& prefix) {
    std::unique_ptr<DIR, Deleter<closedir>> d(::fdopendir(fd));
    if (!d) {
      ::close(fd);
      unreadable.push_back(prefix.empty() ? "." : prefix);
      return;
    }
    std::vector<std::uint32_t> kids;
    errno = 0;
    while (dirent* de = ::readdir(d.get())) {
      std::string_view name = de->d_name;
      if (name == "." || name == "..") continue;
      std::string rel = prefix.empty() ? std::string(name) : prefix + "/" + std::string(name);
      if (excluded(opts, rel)) continue;
      if (!valid_utf8(name)) {
        log::warn("skipping {}: the name is not valid UTF-8, which fs.json cannot hold", printable(rel));
        tree.skipped.push_back(rel);
        continue;
      }
      struct stat st{};
      if (::fstatat(::dirfd(d.get()), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;  // deleted since readdir
        throw Error::from_errno("cannot stat", rel);
      }
      Entry e;
      e.path = std::move(rel);
      e.parent = dir;
      fill_stat(e, st);
      if (S_ISLNK(st.st_mode)) {
        ssize_t n = ::readlinkat(::dirfd(d.get()), de->d_name, link_buf.data(), link_buf.size());
        if (n < 0) throw Error::from_errno("cannot read the symlink", e.path);
        e.target.assign(link_buf.data(), static_cast<std::size_t>(n));
        if (!valid_utf8(e.target)) {
          log::warn("skipping {}: the symlink target is not valid UTF-8", printable(e.path));
          tree.skipped.push_back(e.path);
          continue;
        }
      }
      kids.push_back(static_cast<std::uint32_t>(tree.entries.size()));
      tree.entries.push_back(std::move(e));
    }
    if (errno != 0) throw Error::from_errno("cannot list", prefix.empty() ? "." : prefix);
    (dir < 0 ? tree.root : tree.entries[static_cast<std::size_t>(dir)].children) = kids;
    for (auto k : kids) {
      if (!tree.entries[k].is_dir()) continue;
      std::string name(tree.entries[k].name());
      int cfd = ::openat(::dirfd(d.get()), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      std::string path = tree.entries[k].path;  // entries may move while recursing
      if (cfd < 0) {
        unreadable.push_back(path);
        continue;
      }
      walk(cfd, static_cast<std::int32_t>(k), path);
    }
  }
};

} // namespace

Tree walk_directory(const std::filesystem::path& root, const SourceOptions& o, std::vector<std::string>& unreadable) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw Error::from_errno("cannot open the directory", root);
  Walker w{o, unreadable, {}};
  w.walk(fd, -1, "");
  return std::move(w.tree);
}

} // namespace qb::v86
