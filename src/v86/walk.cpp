#include <dirent.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>

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

// The kernel's struct linux_dirent64: the name starts at byte 19 of each record.
constexpr std::size_t dirent_reclen_at = 16, dirent_name_at = 19;

// A parallel walk: each job lists one directory (getdents64 into a per-thread buffer,
// fstatat relative to the directory's descriptor) into a local list, then, under the
// lock once per directory, appends the entries to the tree and queues the
// subdirectories. Children are sorted by name afterwards, so the order in which the
// threads finish does not show in the output.
struct Walker {
  Walker(const SourceOptions& o, std::vector<std::string>& u) : opts(o), unreadable(u) {}
  const SourceOptions& opts;
  std::vector<std::string>& unreadable;
  Tree tree;

  // A directory to list. It is opened only when a thread takes it (relative to the
  // root, never through a symlink), so the number of open descriptors stays at one
  // per thread however wide the tree is.
  struct Job {
    std::int32_t dir;     // entry index, -1 for the root
    std::string prefix;   // its path
  };
  int root_fd = -1;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Job> queue;
  unsigned busy = 0;
  bool stop = false;
  std::exception_ptr failure;

  struct Local {
    std::vector<Entry> kids;
    std::vector<std::uint32_t> order;  // kids sorted by name
    std::vector<std::pair<std::string_view, std::uint32_t>> keys;
    std::vector<std::string> skipped, warnings;
    std::vector<char> buf = std::vector<char>(64 * 1024);
    std::string link_buf = std::string(4096, '\0');
  };

  void run(unsigned threads) {
    std::vector<std::thread> ts;
    for (unsigned t = 1; t < threads; ++t) ts.emplace_back([this] { work(); });
    work();
    for (auto& t : ts) t.join();
    if (failure) std::rethrow_exception(failure);
  }

  void work() {
    Local l;
    std::unique_lock lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return stop || !queue.empty() || busy == 0; });
      if (stop || (queue.empty() && busy == 0)) break;
      Job j = std::move(queue.back());
      queue.pop_back();
      ++busy;
      lock.unlock();
      bool opened = true;
      try {
        opened = list(j, l);
      } catch (...) {
        lock.lock();
        if (!failure) failure = std::current_exception();
        stop = true;
        --busy;
        cv.notify_all();
        break;
      }
      lock.lock();
      if (opened) publish(j, l);
      else unreadable.push_back(j.prefix.empty() ? "." : j.prefix);
      --busy;
      cv.notify_all();
    }
    if (stop) queue.clear();
  }

  // Opens directory `rel` under the root without following any symlink on the way.
  int open_dir(const std::string& rel) {
    const char* p = rel.empty() ? "." : rel.c_str();
#ifdef SYS_openat2
    static std::atomic<bool> no_openat2{false};
    if (!no_openat2) {
      struct {
        std::uint64_t flags, mode, resolve;
      } how{O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0, 0x08 /*BENEATH*/ | 0x04 /*NO_SYMLINKS*/ | 0x02 /*NO_MAGICLINKS*/};
      long fd = ::syscall(SYS_openat2, root_fd, p, &how, sizeof how);
      if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) return static_cast<int>(fd);
      no_openat2 = true;  // old kernel or seccomp: plain openat (the last component is still not followed)
    }
#endif
    return ::openat(root_fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }

  // Reads directory j into l.kids (without the lock). False: it cannot be opened.
  bool list(const Job& j, Local& l) {
    l.kids.clear();
    Fd fd(open_dir(j.prefix));
    if (!fd) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
        throw Error::from_errno("cannot open the directory", j.prefix.empty() ? "." : j.prefix);
      return false;
    }
    for (;;) {
      long n = ::syscall(SYS_getdents64, fd.get(), l.buf.data(), l.buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw Error::from_errno("cannot list", j.prefix.empty() ? "." : j.prefix);
      }
      if (n == 0) break;
      for (long off = 0; off < n;) {
        const char* rec = l.buf.data() + off;
        unsigned short reclen;
        std::memcpy(&reclen, rec + dirent_reclen_at, sizeof reclen);
        off += reclen;
        const char* cname = rec + dirent_name_at;
        std::string_view name = cname;
        if (name == "." || name == "..") continue;
        add(j, l, fd.get(), name, cname);
      }
    }
    // Sorted here, in parallel, so the tree comes out with sorted children.
    // On (name, index) pairs: comparing through the entries misses the cache.
    l.keys.clear();
    for (std::uint32_t k = 0; k < l.kids.size(); ++k) l.keys.emplace_back(l.kids[k].name(), k);
    std::sort(l.keys.begin(), l.keys.end());
    l.order.resize(l.kids.size());
    for (std::size_t k = 0; k < l.keys.size(); ++k) l.order[k] = l.keys[k].second;
    return true;
  }

  void add(const Job& j, Local& l, int dfd, std::string_view name, const char* cname) {
    std::string rel;
    rel.reserve(j.prefix.size() + 1 + name.size());
    if (!j.prefix.empty()) {
      rel.append(j.prefix);
      rel.push_back('/');
    }
    rel.append(name);
    if (!opts.excludes.empty() && excluded(opts, rel)) return;
    if (!valid_utf8(name)) {
      l.warnings.push_back(fmt::format("skipping {}: the name is not valid UTF-8, which fs.json cannot hold", printable(rel)));
      l.skipped.push_back(std::move(rel));
      return;
    }
    struct stat st{};
    if (::fstatat(dfd, cname, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return;  // deleted since it was listed
      throw Error::from_errno("cannot stat", rel);
    }
    Entry& e = l.kids.emplace_back();
    e.path = std::move(rel);
    e.name_at = static_cast<std::uint32_t>(e.path.size() - name.size());
    e.parent = j.dir;
    fill_stat(e, st);
    if (S_ISLNK(st.st_mode)) {
      ssize_t n = ::readlinkat(dfd, cname, l.link_buf.data(), l.link_buf.size());
      if (n < 0) throw Error::from_errno("cannot read the symlink", e.path);
      e.target.assign(l.link_buf.data(), static_cast<std::size_t>(n));
      if (!valid_utf8(e.target)) {
        l.warnings.push_back(fmt::format("skipping {}: the symlink target is not valid UTF-8", printable(e.path)));
        l.skipped.push_back(std::move(e.path));
        l.kids.pop_back();
        return;
      }
    }
  }

  // Appends l's entries to the tree and queues their directories (with the lock).
  void publish(const Job& j, Local& l) {
    for (auto& w : l.warnings) log::warn("{}", w);
    l.warnings.clear();
    for (auto& s : l.skipped) tree.skipped.push_back(std::move(s));
    l.skipped.clear();
    auto first = static_cast<std::uint32_t>(tree.entries.size());
    std::vector<std::uint32_t> kids(l.kids.size());
    for (std::uint32_t k = 0; k < kids.size(); ++k) kids[k] = first + k;
    for (auto k : l.order) {
      Entry& e = l.kids[k];
      std::uint32_t idx = static_cast<std::uint32_t>(tree.entries.size());
      if (e.is_dir()) queue.push_back(Job{static_cast<std::int32_t>(idx), e.path});
      tree.entries.push_back(std::move(e));
    }
    (j.dir < 0 ? tree.root : tree.entries[static_cast<std::size_t>(j.dir)].children) = std::move(kids);
  }
};

} // namespace

Tree walk_directory(const std::filesystem::path& root, const SourceOptions& o, std::vector<std::string>& unreadable,
                    std::size_t expect) {
  Fd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw Error::from_errno("cannot open the directory", root);
  Walker w(o, unreadable);
  w.root_fd = fd.get();
  w.tree.entries.reserve(expect + expect / 16 + 64);
  w.queue.push_back({-1, ""});
  w.run(std::max(1u, std::min(4u, std::thread::hardware_concurrency())));
  std::sort(unreadable.begin(), unreadable.end());
  return std::move(w.tree);
}

} // namespace qb::v86
