#include "watch/watcher.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/log.hpp"
#include "watch/limits.hpp"

namespace qb::watch {

namespace {

// IN_MODIFY is left out on purpose: IN_CLOSE_WRITE reports a finished write once,
// where IN_MODIFY would fire per write(2) call. IN_ATTRIB: mode changes matter to export.
constexpr std::uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
                                IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB |
                                IN_EXCL_UNLINK;
constexpr std::size_t kBufferSize = 64 * 1024;

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
using SeenMap = std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>>;

std::string join(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

// d_type, or lstat() when the file system does not fill it in.
bool entry_is_dir(const std::string& parent, const dirent* e) {
  if (e->d_type != DT_UNKNOWN) return e->d_type == DT_DIR;
  struct stat st{};
  return ::lstat(join(parent, e->d_name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_dot(const char* n) { return n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0)); }

} // namespace

const char* to_string(Change::Kind kind) {
  switch (kind) {
  case Change::Kind::modified: return "modified";
  case Change::Kind::created: return "created";
  case Change::Kind::deleted: return "deleted";
  case Change::Kind::rescan: return "rescan";
  }
  return "?";
}

struct Watcher::Impl {
  enum class Role : std::uint8_t {
    tree,    // a directory of the root's tree; rel is its path inside the root
    parent,  // the parent of a directory root: only the root's own name matters
    file,    // the parent of a file root: only the file's name matters
  };
  struct Owner {
    std::uint32_t root;
    Role role;
    std::string rel;
  };
  struct Dir {
    std::string abs;
    std::vector<Owner> owners;  // usually one; several when roots share a directory
  };
  struct Root {
    std::string id;
    std::string abs;
    std::string name;  // base name, matched by the parent / file watch
    bool is_file;
  };

  Options opt;
  IgnoreRules ignore;
  Fd fd;
  std::vector<Root> roots;
  std::unordered_map<int, Dir> dirs;          // wd -> directory
  std::map<std::string, int, std::less<>> by_path;  // absolute path -> wd, for subtrees

  Batch batch;
  std::vector<SeenMap> seen;  // per root: rel path -> index in batch.changes
  std::optional<Clock::time_point> first, last;
  std::size_t recorded = 0;

  std::string rel_scratch, abs_scratch;  // reused per event: no allocation once warm
  std::vector<Owner> owners_scratch;
  alignas(inotify_event) char buf[kBufferSize];

  explicit Impl(Options o)
      : opt(std::move(o)), ignore(opt.ignore, opt.ignore_paths, !opt.no_default_ignores) {
    fd.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!fd) {
      int err = errno;
      if (err == EMFILE) {
        // EMFILE means either limit; a failing dup tells the descriptor limit apart.
        int probe = ::fcntl(0, F_DUPFD_CLOEXEC, 0);
        bool fds_exhausted = probe < 0 && errno == EMFILE;
        if (probe >= 0) ::close(probe);
        throw instance_limit_error(read_watch_limits(), fds_exhausted);
      }
      throw Error(fmt::format("cannot create an inotify instance: {}", std::strerror(err)));
    }
  }

  bool pending() const { return first.has_value(); }

  Clock::time_point due() const {
    const auto scale = std::min<std::size_t>(4, 1 + batch.changes.size() / 1000);
    return std::min(*last + opt.debounce * static_cast<int>(scale), *first + opt.max_delay);
  }

  // --- the change list -------------------------------------------------------------

  void record(std::uint32_t root, std::string_view rel, Change::Kind kind, bool is_dir) {
    ++recorded;
    auto& m = seen[root];
    if (auto it = m.find(rel); it != m.end()) {
      Change& c = batch.changes[it->second];
      if (c.kind == Change::Kind::rescan) return;
      if (!(c.kind == Change::Kind::created && kind == Change::Kind::modified)) c.kind = kind;
      c.is_dir = is_dir;
      return;
    }
    m.emplace(std::string(rel), batch.changes.size());
    batch.changes.push_back(Change{roots[root].id, fs::path(rel), kind, is_dir});
  }

  // --- watches ---------------------------------------------------------------------

  std::size_t count_dirs(std::uint32_t root) {
    std::size_t n = 0;
    std::vector<std::pair<std::string, std::string>> stack{{roots[root].abs, ""}};
    while (!stack.empty()) {
      auto [abs, rel] = std::move(stack.back());
      stack.pop_back();
      ++n;
      std::unique_ptr<DIR, Deleter<::closedir>> d(::opendir(abs.c_str()));
      if (!d) continue;
      while (const dirent* e = ::readdir(d.get())) {
        if (is_dot(e->d_name) || !entry_is_dir(abs, e)) continue;
        std::string crel = rel.empty() ? std::string(e->d_name) : join(rel, e->d_name);
        std::string cabs = join(abs, e->d_name);
        if (!ignore.ignored(e->d_name, crel.c_str(), cabs)) stack.emplace_back(cabs, crel);
      }
    }
    return n;
  }

  [[noreturn]] void throw_no_space(const std::string& abs) {
    std::size_t needed = 0;
    for (std::uint32_t r = 0; r < roots.size(); ++r)
      needed += 1 + (roots[r].is_file ? 0 : count_dirs(r));  // + 1: the parent watch
    throw watch_limit_error(abs, needed, read_watch_limits());
  }

  // The wd, or -1 when the directory vanished (or is unreadable: warned, skipped).
  int add_watch(const std::string& abs, std::uint32_t extra) {
    int wd = ::inotify_add_watch(fd.get(), abs.c_str(), kMask | IN_ONLYDIR | extra);
    if (wd >= 0) return wd;
    int err = errno;
    switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ELOOP: return -1;  // raced with a delete or a rename: the parent reports it
    case EACCES:
      log::warn("cannot watch {}: {}; changes below it will be missed", abs, std::strerror(err));
      return -1;
    case ENOSPC: throw_no_space(abs);
    default: throw Error::from_errno("cannot watch", abs, {}, err);
    }
  }

  void attach(int wd, const std::string& abs, Owner owner) {
    Dir& d = dirs[wd];
    if (d.abs != abs) {
      // A directory watched before under another path (moved while a second root
      // still held it): follow the new path.
      if (auto it = by_path.find(d.abs); it != by_path.end() && it->second == wd) by_path.erase(it);
      d.abs = abs;
    }
    by_path[abs] = wd;
    for (auto& o : d.owners)
      if (o.root == owner.root && o.role == owner.role) {
        o.rel = std::move(owner.rel);
        return;
      }
    d.owners.push_back(std::move(owner));
  }

  // Watches the tree at `abs` (`rel` inside root). With `emit`, reports everything
  // found below as created: it appeared after the events that would have named it.
  void add_tree(std::uint32_t root, const std::string& abs, const std::string& rel, bool emit) {
    std::vector<std::pair<std::string, std::string>> stack{{abs, rel}};
    while (!stack.empty()) {
      auto [dabs, drel] = std::move(stack.back());
      stack.pop_back();
      // Below the root, never follow a symlink that replaced a directory.
      int wd = add_watch(dabs, drel.empty() ? 0 : IN_DONT_FOLLOW);
      if (wd < 0) continue;
      attach(wd, dabs, Owner{root, Role::tree, drel});
      // Listed after the watch exists, so an entry is either listed here or evented.
      std::unique_ptr<DIR, Deleter<::closedir>> d(::opendir(dabs.c_str()));
      if (!d) continue;
      while (const dirent* e = ::readdir(d.get())) {
        if (is_dot(e->d_name)) continue;
        std::string crel = drel.empty() ? std::string(e->d_name) : join(drel, e->d_name);
        std::string cabs = join(dabs, e->d_name);
        if (ignore.ignored(e->d_name, crel.c_str(), cabs)) continue;
        bool dir = entry_is_dir(dabs, e);
        if (emit) record(root, crel, Change::Kind::created, dir);
        if (dir) stack.emplace_back(std::move(cabs), std::move(crel));
      }
    }
  }

  // Stops watching `abs` and below for `root`; watches no other root holds are removed.
  void drop_tree(std::uint32_t root, const std::string& abs) {
    std::string prefix = join(abs, "");
    std::vector<int> wds;
    for (auto it = by_path.lower_bound(abs);
         it != by_path.end() && (it->first == abs || it->first.starts_with(prefix)); ++it)
      wds.push_back(it->second);
    for (int wd : wds) {
      auto it = dirs.find(wd);
      if (it == dirs.end()) continue;
      auto& owners = it->second.owners;
      std::erase_if(owners, [&](const Owner& o) { return o.root == root && o.role == Role::tree; });
      if (owners.empty()) forget(wd, /*remove_watch=*/true);
    }
  }

  void forget(int wd, bool remove_watch) {
    auto it = dirs.find(wd);
    if (it == dirs.end()) return;
    if (auto p = by_path.find(it->second.abs); p != by_path.end() && p->second == wd) by_path.erase(p);
    dirs.erase(it);
    if (remove_watch) ::inotify_rm_watch(fd.get(), wd);  // EINVAL if already gone: fine
  }

  void watch_root_parent(std::uint32_t r) {
    const Root& root = roots[r];
    std::string parent = fs::path(root.abs).parent_path().string();
    if (parent.empty() || parent == root.abs) return;  // "/" has no parent to watch
    int wd = add_watch(parent, 0);
    if (wd < 0) {
      if (root.is_file) throw Error::from_errno("cannot watch", parent);
      return;
    }
    attach(wd, parent, Owner{r, root.is_file ? Role::file : Role::parent, {}});
  }

  // --- events ----------------------------------------------------------------------

  static Change::Kind kind_of(std::uint32_t mask) {
    if (mask & (IN_CREATE | IN_MOVED_TO)) return Change::Kind::created;
    if (mask & (IN_DELETE | IN_MOVED_FROM)) return Change::Kind::deleted;
    return Change::Kind::modified;
  }

  void overflow() {
    batch.overflowed = true;
    for (std::uint32_t r = 0; r < roots.size(); ++r) record(r, "", Change::Kind::rescan, !roots[r].is_file);
    // Lost events may include directory creations and deletions: repair the watches.
    for (std::uint32_t r = 0; r < roots.size(); ++r) {
      if (roots[r].is_file) continue;
      struct stat st{};
      if (::stat(roots[r].abs.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        add_tree(r, roots[r].abs, "", false);
      else
        drop_tree(r, roots[r].abs);
    }
    std::vector<int> stale;
    for (const auto& [wd, d] : dirs) {
      struct stat st{};
      auto p = by_path.find(d.abs);
      if (::lstat(d.abs.c_str(), &st) != 0 || p == by_path.end() || p->second != wd) stale.push_back(wd);
    }
    for (int wd : stale) forget(wd, true);
  }

  void handle_tree(const Owner& o, const inotify_event& ev, std::string_view dir_abs) {
    const std::uint32_t mask = ev.mask;
    const bool is_dir = mask & IN_ISDIR;
    if (ev.len == 0) {  // about the watched directory itself
      if (mask & IN_ATTRIB) record(o.root, o.rel, Change::Kind::modified, true);
      if (mask & IN_UNMOUNT) record(o.root, o.rel, Change::Kind::rescan, true);
      // Subdirectories are reported by their parent; the root's parent may be
      // unwatchable ("/"), so the root reports itself too (deduplicated).
      if ((mask & (IN_DELETE_SELF | IN_MOVE_SELF)) && o.rel.empty()) {
        std::uint32_t r = o.root;
        drop_tree(r, roots[r].abs);
        record(r, "", Change::Kind::deleted, true);
      }
      return;
    }
    rel_scratch.assign(o.rel);
    if (!rel_scratch.empty()) rel_scratch += '/';
    rel_scratch += ev.name;
    abs_scratch.assign(dir_abs);
    abs_scratch += '/';
    abs_scratch += ev.name;
    if (ignore.ignored(ev.name, rel_scratch.c_str(), abs_scratch)) return;
    Change::Kind kind = kind_of(mask);
    record(o.root, rel_scratch, kind, is_dir);
    if (!is_dir) return;
    // add_tree/drop_tree use the scratch strings' owners' storage: pass copies.
    std::string abs = abs_scratch, rel = rel_scratch;
    if (kind == Change::Kind::created) add_tree(o.root, abs, rel, true);
    else if (kind == Change::Kind::deleted) drop_tree(o.root, abs);
  }

  void handle_parent(const Owner& o, const inotify_event& ev) {
    const Root& root = roots[o.root];
    if (ev.len == 0 || root.name != ev.name) return;
    Change::Kind kind = kind_of(ev.mask);
    bool is_dir = ev.mask & IN_ISDIR;
    record(o.root, "", kind, is_dir);
    if (o.role == Role::file) return;
    std::uint32_t r = o.root;
    std::string abs = root.abs;
    if (kind == Change::Kind::deleted && is_dir) drop_tree(r, abs);
    else if (kind == Change::Kind::created && is_dir) add_tree(r, abs, "", true);
  }

  void handle(const inotify_event& ev) {
    if (ev.mask & IN_Q_OVERFLOW) {
      overflow();
      return;
    }
    auto it = dirs.find(ev.wd);
    if (it == dirs.end()) return;  // a watch dropped already; its events are stale
    if (ev.mask & IN_IGNORED) {
      forget(ev.wd, false);
      return;
    }
    constexpr std::uint32_t structural = IN_ISDIR | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT;
    if (!(ev.mask & structural)) {
      // The common case, a file event: nothing below changes the watch tables.
      Dir& d = it->second;
      for (const Owner& o : d.owners) {
        if (o.role == Role::tree) handle_tree(o, ev, d.abs);
        else handle_parent(o, ev);
      }
      return;
    }
    // Directory events add and drop watches, which may erase this very Dir.
    owners_scratch = it->second.owners;
    std::string dir_abs = it->second.abs;
    for (const Owner& o : owners_scratch) {
      if (o.role == Role::tree) handle_tree(o, ev, dir_abs);
      else handle_parent(o, ev);
    }
  }

  // Reads until the queue is empty, or until the batch is due during a flood.
  void drain() {
    for (;;) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return;
        throw Error(fmt::format("cannot read inotify events: {}", std::strerror(errno)));
      }
      std::size_t before = recorded;
      for (char* p = buf; p < buf + n;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(p);
        handle(*ev);
        p += sizeof(inotify_event) + ev->len;
      }
      if (recorded != before) {
        auto now = Clock::now();
        if (!first) first = now;
        last = now;
        if (now >= *first + opt.max_delay) return;
      }
    }
  }

  Batch take(Clock::time_point now) {
    Batch out = std::move(batch);
    out.waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - *first);
    batch = Batch{};
    for (auto& m : seen) m.clear();
    first.reset();
    last.reset();
    return out;
  }
};

Watcher::Watcher(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Watcher::~Watcher() = default;
Watcher::Watcher(Watcher&&) noexcept = default;
Watcher& Watcher::operator=(Watcher&&) noexcept = default;

void Watcher::add_root(std::string id, const fs::path& path) {
  Impl& m = *impl_;
  std::string abs = fs::absolute(path).lexically_normal().string();
  while (abs.size() > 1 && abs.ends_with('/')) abs.pop_back();
  struct stat st{};
  if (::stat(abs.c_str(), &st) != 0) throw Error::from_errno("cannot watch", path);
  auto r = static_cast<std::uint32_t>(m.roots.size());
  m.roots.push_back({std::move(id), abs, fs::path(abs).filename().string(), !S_ISDIR(st.st_mode)});
  m.seen.emplace_back();
  try {
    if (!m.roots[r].is_file) {
      m.add_tree(r, abs, "", false);
      if (!m.by_path.contains(abs)) throw Error::from_errno("cannot watch", path, {}, ENOENT);
    }
    m.watch_root_parent(r);
  } catch (...) {
    m.drop_tree(r, abs);
    m.roots.pop_back();
    m.seen.pop_back();
    throw;
  }
}

std::optional<Batch> Watcher::next(int stop_fd, std::optional<Clock::time_point> deadline) {
  Impl& m = *impl_;
  for (;;) {
    auto now = Clock::now();
    std::optional<Clock::time_point> wake = deadline;
    if (m.pending()) wake = wake ? std::min(*wake, m.due()) : m.due();
    int timeout = -1;
    if (wake) {
      auto ms = std::chrono::ceil<std::chrono::milliseconds>(*wake - now).count();
      timeout = static_cast<int>(std::clamp<decltype(ms)>(ms, 0, 24 * 3600 * 1000));
    }
    pollfd fds[2] = {{m.fd.get(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
    int rc = ::poll(fds, stop_fd >= 0 ? 2 : 1, timeout);
    if (rc < 0 && errno != EINTR)
      throw Error(fmt::format("cannot wait for inotify events: {}", std::strerror(errno)));
    if (rc > 0 && stop_fd >= 0 && fds[1].revents) return std::nullopt;
    if (rc > 0 && (fds[0].revents & POLLIN)) m.drain();
    now = Clock::now();
    if (m.pending() && now >= m.due()) return m.take(now);
    if (deadline && now >= *deadline) return std::nullopt;
  }
}

int Watcher::fd() const { return impl_->fd.get(); }

std::optional<Clock::time_point> Watcher::pending_until() const {
  if (!impl_->pending()) return std::nullopt;
  return impl_->due();
}

fs::path Watcher::absolute(const Change& change) const {
  for (const auto& r : impl_->roots)
    if (r.id == change.root_id) return change.path.empty() ? fs::path(r.abs) : fs::path(r.abs) / change.path;
  return change.path;
}

std::size_t Watcher::watch_count() const { return impl_->dirs.size(); }

} // namespace qb::watch
