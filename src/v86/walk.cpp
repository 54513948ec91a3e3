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
#include <deque>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/io/open_beneath.hpp"
#include "core/fd.hpp"
#include "core/log.hpp"
#include "v86/fs_json.hpp"
#include "v86/source.hpp"
#include "v86/walk_memory.hpp"

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

// A parallel walk. Each job lists one directory (getdents64 into a per-thread buffer,
// fstatat relative to the directory's descriptor) into that directory's own Listing,
// which only its thread touches, and queues the subdirectories; the lock is held only
// to move jobs in and out of the queue. When every job is done the listings are
// joined into the tree on one thread. Children are sorted by name as they are listed,
// so the order in which the threads finish does not show in the output.
// With a memory of the last run, an unchanged directory is not listed: its recorded
// names are lstat'ed directly (see walk_memory.hpp).
struct Walker {
  Walker(const SourceOptions& o, std::vector<std::string>& u, const WalkMemory* m)
      : opts(o), unreadable(u), memory(m) {}
  const SourceOptions& opts;
  std::vector<std::string>& unreadable;
  const WalkMemory* memory;
  static constexpr std::int32_t unknown = -2;  // record not looked up yet

  struct Listing {
    std::vector<Entry> kids;
    std::vector<std::uint32_t> order;  // kids sorted by name
    std::vector<Listing*> sub;         // per kid: its listing (directories), else null
    bool opened = true;                // false: the directory could not be opened
    bool complete = true;              // every name listed became an entry
  };

  // A directory to list, and the listing it fills. It is opened only when a thread
  // takes it (relative to the root, never through a symlink), so the number of open
  // descriptors stays at one per thread however wide the tree is.
  struct Job {
    Listing* out;
    std::string prefix;          // its path ("" for the root)
    std::int32_t rec = unknown;  // its record in the memory
    StatRecord stat;             // its lstat data
  };
  int root_fd = -1;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Job> queue;
  unsigned busy = 0;
  bool stop = false;
  std::exception_ptr failure;
  std::atomic<std::uint64_t> dirs_listed{0};
  Listing root;
  std::vector<std::unique_ptr<std::deque<Listing>>> arenas;  // one per thread: stable addresses
  std::vector<std::string> skipped;                          // with the lock

  struct Local {
    std::deque<Listing>* arena = nullptr;
    std::vector<std::int32_t> kid_recs;  // each kid's record in the memory, when known
    std::vector<std::pair<std::string_view, std::uint32_t>> keys;
    std::vector<std::string> skipped, warnings;
    std::vector<Job> jobs;
    std::vector<char> buf;  // getdents64 records (64 KiB, allocated on first use)
    std::string link_buf = std::string(4096, '\0');
    std::string name_buf;
    bool search_denied = false;  // an lstat in the directory being read gave EACCES
  };

  // A directory that can be listed but not searched (read permission without
  // execute): its names are there, their stat data is not. It is unreadable as a
  // whole, like one that cannot be opened (--skip-unreadable leaves it out).
  static bool denied(const Job& j, Local& l) {
    if (!l.search_denied) return false;
    l.search_denied = false;
    j.out->kids.clear();
    l.kid_recs.clear();
    return true;
  }

  void run(unsigned threads) {
    for (unsigned t = 0; t < threads; ++t) arenas.push_back(std::make_unique<std::deque<Listing>>());
    std::vector<std::thread> ts;
    for (unsigned t = 1; t < threads; ++t) ts.emplace_back([this, t] { work(*arenas[t]); });
    work(*arenas[0]);
    for (auto& t : ts) t.join();
    if (failure) std::rethrow_exception(failure);
  }

  void work(std::deque<Listing>& arena) {
    Local l;
    l.arena = &arena;
    std::unique_lock lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return stop || !queue.empty() || busy == 0; });
      if (stop || (queue.empty() && busy == 0)) break;
      Job j = std::move(queue.back());
      queue.pop_back();
      ++busy;
      lock.unlock();
      try {
        list(j, l);
      } catch (...) {
        lock.lock();
        if (!failure) failure = std::current_exception();
        stop = true;
        --busy;
        cv.notify_all();
        break;
      }
      lock.lock();
      for (auto& w : l.warnings) log::warn("{}", w);
      l.warnings.clear();
      for (auto& s : l.skipped) skipped.push_back(std::move(s));
      l.skipped.clear();
      const bool more = !l.jobs.empty();
      for (auto& nj : l.jobs) queue.push_back(std::move(nj));
      l.jobs.clear();
      --busy;
      if (more || busy == 0) cv.notify_all();
    }
    if (stop) queue.clear();
  }

  // Opens directory `rel` under the root without following any symlink on the way.
  int open_dir(const std::string& rel) { return io::open_beneath(root_fd, rel.c_str(), O_RDONLY | O_DIRECTORY); }

  // Fills j.out (without the lock) and collects the jobs of its subdirectories.
  void list(const Job& j, Local& l) {
    Listing& out = *j.out;
    l.kid_recs.clear();
    if (!remembered(j, l) && !read_dir(j, l)) {
      out.opened = false;
      return;
    }
    // On (name, index) pairs: comparing through the entries misses the cache.
    l.keys.clear();
    for (std::uint32_t k = 0; k < out.kids.size(); ++k) l.keys.emplace_back(out.kids[k].name(), k);
    std::sort(l.keys.begin(), l.keys.end());
    out.order.resize(out.kids.size());
    for (std::size_t k = 0; k < l.keys.size(); ++k) out.order[k] = l.keys[k].second;
    out.sub.assign(out.kids.size(), nullptr);
    for (std::uint32_t k = 0; k < out.kids.size(); ++k) {
      const Entry& e = out.kids[k];
      if (!e.is_dir()) continue;
      Listing* sub = &l.arena->emplace_back();
      out.sub[k] = sub;
      l.jobs.push_back(Job{sub, e.path, l.kid_recs[k], record_of(e)});
    }
  }

  // The directory just opened is the one the parent's lstat saw (not swapped for
  // another by a rename in between): else its listing would be recorded as complete
  // under the other one's stat data.
  static bool still_same(int fd, const StatRecord& seen) {
    struct stat st{};
    if (::fstat(fd, &st) != 0) return false;
    Entry now;
    fill_stat(now, st);
    return same_stat(seen, now, std::numeric_limits<std::int64_t>::max());  // no racy rule here
  }

  // An unchanged directory: its recorded names are lstat'ed without listing it. It is
  // still opened (beneath the root, no symlinks, read permission checked as for a
  // listing) and each name is lstat'ed relative to it. (Swapped for another directory
  // since its parent's lstat: this run sees the recorded names, and the next one lists
  // it, as the inode differs from the one recorded.)
  bool remembered(const Job& j, Local& l) {
    if (!memory || j.prefix.empty()) return false;
    const std::int32_t rec = j.rec == unknown ? memory->find(j.prefix) : j.rec;
    std::span<const std::uint32_t> kids;
    if (!memory->children(rec, j.stat, kids)) return false;
    if (kids.empty()) return true;
    Fd fd(open_dir(j.prefix));
    if (!fd) return false;  // read_dir says why
    j.out->kids.reserve(kids.size());
    l.kid_recs.reserve(kids.size());
    for (std::uint32_t k : kids) {
      std::string_view name = memory->name(k);
      l.name_buf.assign(name);
      add(j, l, fd.get(), name, l.name_buf.c_str(), static_cast<std::int32_t>(k));
    }
    return !denied(j, l);
  }

  // Lists directory j with getdents64. False: it cannot be opened.
  bool read_dir(const Job& j, Local& l) {
    if (l.buf.empty()) l.buf.resize(64 * 1024);
    Fd fd(open_dir(j.prefix));
    if (!fd) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
        throw Error::from_errno("cannot open the directory", j.prefix.empty() ? "." : j.prefix);
      return false;
    }
    if (!j.prefix.empty() && !still_same(fd.get(), j.stat)) j.out->complete = false;
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
        add(j, l, fd.get(), name, cname, unknown);
      }
    }
    if (denied(j, l)) return false;
    ++dirs_listed;
    return true;
  }

  // lstats `name` of directory j (`at` relative to `dfd`) into j's listing.
  void add(const Job& j, Local& l, int dfd, std::string_view name, const char* at, std::int32_t rec) {
    Listing& out = *j.out;
    std::string rel;
    rel.reserve(j.prefix.size() + 1 + name.size());
    if (!j.prefix.empty()) {
      rel.append(j.prefix);
      rel.push_back('/');
    }
    rel.append(name);
    if (rel.size() > max_path_length) {
      l.warnings.push_back(fmt::format("skipping {}...: its path is longer than {} bytes", printable(rel.substr(0, 60)),
                                       max_path_length));
      l.skipped.push_back(rel.substr(0, 200));
      out.complete = false;
      return;
    }
    if (!opts.excludes.empty() && excluded(opts, rel)) {
      out.complete = false;
      return;
    }
    if (!valid_utf8(name)) {
      l.warnings.push_back(fmt::format("skipping {}: the name is not valid UTF-8, which fs.json cannot hold", printable(rel)));
      l.skipped.push_back(std::move(rel));
      out.complete = false;
      return;
    }
    struct stat st{};
    if (::fstatat(dfd, at, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      out.complete = false;
      if (errno == ENOENT || errno == ENOTDIR) return;  // deleted since it was listed
      if (errno == EACCES) {
        l.search_denied = true;
        return;
      }
      throw Error::from_errno("cannot stat", rel);
    }
    Entry& e = out.kids.emplace_back();
    e.path = std::move(rel);
    e.name_at = static_cast<std::uint32_t>(e.path.size() - name.size());
    fill_stat(e, st);
    l.kid_recs.push_back(rec);
    if (S_ISLNK(st.st_mode)) {
      std::string_view known;
      if (memory && memory->target(rec == unknown ? memory->find(e.path) : rec, record_of(e), known)) {
        e.target.assign(known);  // WalkMemory::target checked it is valid UTF-8
        return;
      }
      ssize_t n = ::readlinkat(dfd, at, l.link_buf.data(), l.link_buf.size());
      if (n < 0) throw Error::from_errno("cannot read the symlink", e.path);
      e.target.assign(l.link_buf.data(), static_cast<std::size_t>(n));
      if (!valid_utf8(e.target)) {
        l.warnings.push_back(fmt::format("skipping {}: the symlink target is not valid UTF-8", printable(e.path)));
        l.skipped.push_back(std::move(e.path));
        out.kids.pop_back();
        l.kid_recs.pop_back();
        out.complete = false;
        return;
      }
    }
  }

  // Joins the listings into a tree: each directory's children are contiguous.
  Tree assemble(std::size_t expect) {
    Tree tree;
    tree.entries.reserve(expect + expect / 16 + 64);
    tree.skipped = std::move(skipped);
    tree.dirs_listed = dirs_listed;
    if (!root.opened) unreadable.push_back(".");
    struct Pending {
      Listing* listing;
      std::int32_t dir;  // entry index, -1 for the root
    };
    std::vector<Pending> todo{{&root, -1}};
    std::vector<std::uint32_t> kids;
    while (!todo.empty()) {
      Pending p = todo.back();
      todo.pop_back();
      Listing& L = *p.listing;
      kids.clear();
      for (auto k : L.order) {
        auto idx = static_cast<std::uint32_t>(tree.entries.size());
        kids.push_back(idx);
        Entry& e = tree.entries.emplace_back(std::move(L.kids[k]));
        e.parent = p.dir;
        if (Listing* sub = L.sub[k]) {
          if (sub->opened) todo.push_back({sub, static_cast<std::int32_t>(idx)});
          else unreadable.push_back(e.path);
        }
      }
      std::vector<Entry>().swap(L.kids);  // moved from: its memory goes back now, not at the end
      if (p.dir < 0) {
        tree.root = kids;
      } else {
        Entry& d = tree.entries[static_cast<std::size_t>(p.dir)];
        d.children = kids;
        d.listing_complete = L.complete;
      }
    }
    return tree;
  }
};

} // namespace

Tree walk_directory(const std::filesystem::path& root, const SourceOptions& o, std::vector<std::string>& unreadable,
                    std::size_t expect, const WalkMemory* memory) {
  Fd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw Error::from_errno("cannot open the directory", root);
  Walker w(o, unreadable, memory);
  w.root_fd = fd.get();
  w.queue.push_back(Walker::Job{&w.root, "", Walker::unknown, StatRecord{}});
  w.run(std::max(1u, std::min(4u, std::thread::hardware_concurrency())));
  Tree tree = w.assemble(expect);
  std::sort(unreadable.begin(), unreadable.end());
  return tree;
}

} // namespace qb::v86
