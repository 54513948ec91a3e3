#include "v86/exporter.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <exception>
#include <future>
#include <thread>
#include <cstring>
#include <unordered_set>

#include <fmt/format.h>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/file_util.hpp"
#include "core/log.hpp"
#include "v86/blob_store.hpp"
#include "v86/fs_json.hpp"
#include "v86/hasher.hpp"
#include "v86/source.hpp"
#include "v86/state.hpp"
#include "v86/walk_memory.hpp"

namespace qb::v86 {

namespace fs = std::filesystem;

nlohmann::json Delta::to_json() const {
  nlohmann::json t = nlohmann::json::object();
  for (auto& [k, v] : timings_ms) t[k] = v;
  return {{"blobs_added", blobs_added},
          {"blobs_removed", blobs_removed},
          {"entries_added", entries_added},
          {"entries_removed", entries_removed},
          {"entries_changed", entries_changed},
          {"entries", entries},
          {"files_hashed", files_hashed},
          {"bytes_hashed", bytes_hashed},
          {"size", total_size},
          {"skipped", skipped},
          {"collisions", collisions},
          {"dirs_listed", dirs_listed},
          {"fs_json_changed", fs_json_changed},
          {"reader", backend},
          {"timings_ms", t}};
}

std::string Delta::to_json_text() const {
  std::string out;
  std::size_t est = 512;
  for (auto* v : {&blobs_added, &blobs_removed, &entries_added, &entries_removed, &entries_changed, &skipped})
    for (auto& s : *v) est += s.size() + 8;
  out.reserve(est);
  auto list = [&](const char* key, const std::vector<std::string>& v) {
    out += "\n \"";
    out += key;
    out += "\": [";
    for (std::size_t i = 0; i < v.size(); ++i) {
      out += i ? ",\n  " : "\n  ";
      append_json_string(out, v[i]);
    }
    out += v.empty() ? "]," : "\n ],";
  };
  auto num = [&](const char* key, auto v) { fmt::format_to(std::back_inserter(out), "\n \"{}\": {},", key, v); };
  out += "{";
  list("blobs_added", blobs_added);
  list("blobs_removed", blobs_removed);
  num("bytes_hashed", bytes_hashed);
  num("collisions", collisions);
  num("dirs_listed", dirs_listed);
  list("entries_added", entries_added);
  list("entries_changed", entries_changed);
  list("entries_removed", entries_removed);
  num("entries", entries);
  num("files_hashed", files_hashed);
  out += fs_json_changed ? "\n \"fs_json_changed\": true," : "\n \"fs_json_changed\": false,";
  out += "\n \"reader\": ";
  append_json_string(out, backend);
  out += ",";
  num("size", total_size);
  list("skipped", skipped);
  out += "\n \"timings_ms\": {";
  for (std::size_t i = 0; i < timings_ms.size(); ++i)
    fmt::format_to(std::back_inserter(out), "{}\n  \"{}\": {}", i ? "," : "", timings_ms[i].first, timings_ms[i].second);
  out += timings_ms.empty() ? "}\n}\n" : "\n }\n}\n";
  return out;
}

namespace {

using Clock = std::chrono::steady_clock;

struct Timer {
  Delta& d;
  Clock::time_point t = Clock::now();
  void lap(const char* name) {
    auto now = Clock::now();
    d.timings_ms.emplace_back(name, std::chrono::duration<double, std::milli>(now - t).count());
    t = now;
  }
};

std::int64_t mtime_ns(const fs::path& p) {
  struct stat st{};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

bool inside(const fs::path& child, const fs::path& parent) {
  auto c = child.begin(), p = parent.begin();
  for (; p != parent.end(); ++p, ++c)
    if (c == child.end() || *c != *p) return false;
  return true;
}

// Blob files and leftovers of interrupted runs in DIR.
void scan_out_dir(const fs::path& out, std::unordered_set<std::string>& blobs) {
  std::unique_ptr<DIR, Deleter<closedir>> d(::opendir(out.c_str()));
  if (!d) throw Error::from_errno("cannot list", out);
  while (dirent* de = ::readdir(d.get())) {
    std::string_view n = de->d_name;
    if (is_blob_name(n)) blobs.emplace(n);
    else if (is_own_temp_name(n)) ::unlinkat(::dirfd(d.get()), de->d_name, 0);
  }
}

void clean_private_dir(const fs::path& qdir) {
  std::unique_ptr<DIR, Deleter<closedir>> d(::opendir(qdir.c_str()));
  if (!d) return;
  while (dirent* de = ::readdir(d.get())) {
    std::string_view n = de->d_name;
    if (n.starts_with("staging-") || n.starts_with("tar-staging") || n.find(".tmp.") != std::string_view::npos)
      ::unlinkat(::dirfd(d.get()), de->d_name, 0);
  }
}

// True when file `name` in `dir_fd` holds exactly `data`. Mapped rather than read:
// the old fs.json is compared where it lies in the page cache, without a copy.
bool file_equals(int dir_fd, const char* name, std::string_view data) {
  Fd fd(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW));  // a FIFO: no hang
  if (!fd) return false;
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || std::uint64_t(st.st_size) != data.size()) return false;
  if (data.empty()) return true;
  void* m = ::mmap(nullptr, data.size(), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd.get(), 0);
  if (m == MAP_FAILED) return false;
  bool same = std::memcmp(m, data.data(), data.size()) == 0;
  ::munmap(m, data.size());
  return same;
}

// Calls f(i) for every live entry, parents before children, children in their order.
template <class F> void for_each_preorder(const Tree& t, F&& f) {
  std::vector<std::pair<const std::vector<std::uint32_t>*, std::size_t>> stack;
  stack.emplace_back(&t.root, 0);
  while (!stack.empty()) {
    auto& [kids, pos] = stack.back();
    if (pos == kids->size()) {
      stack.pop_back();
      continue;
    }
    std::uint32_t i = (*kids)[pos++];
    f(i);
    if (!t.entries[i].children.empty()) stack.emplace_back(&t.entries[i].children, 0);
  }
}

void drop_entry(Tree& t, std::uint32_t i) {
  auto& e = t.entries[i];
  auto& sib = e.parent < 0 ? t.root : t.entries[static_cast<std::size_t>(e.parent)].children;
  std::erase(sib, i);
}

} // namespace

static Delta export_into(const ExportOptions& o, std::unique_ptr<BlobStore>& store_out);

Delta run_export(const ExportOptions& o) {
  std::unique_ptr<BlobStore> store;
  try {
    return export_into(o, store);
  } catch (...) {
    // Until fs.json is published, the blobs this run added are referenced by nothing:
    // take them away again so a failed run leaves the output as it was.
    if (store && !store->published)
      for (auto& n : store->added()) ::unlink((store->dir() / n).c_str());
    throw;
  }
}

static Delta export_into(const ExportOptions& o, std::unique_ptr<BlobStore>& store_ptr) {
  Delta delta;
  Timer timer{delta};
  std::error_code ec;
  auto src_status = fs::status(o.source, ec);
  if (!fs::exists(src_status))
    throw Error(fmt::format("SOURCE {} does not exist", o.source.string()), "pass a directory or a tar archive");
  const bool is_dir = fs::is_directory(src_status);
  fs::path source = fs::canonical(o.source);
  fs::path out = fs::weakly_canonical(fs::absolute(o.out));
  if (is_dir && inside(out, source))
    throw Error(fmt::format("the output directory {} is inside the source {}", out.string(), source.string()),
                "choose an output directory outside the tree, or --exclude it is not enough: the export would read its own output");
  fs::create_directories(out / ".quickboot", ec);
  if (ec || !fs::is_directory(out / ".quickboot"))
    throw Error(fmt::format("cannot create the output directory {}: {}", out.string(), ec ? ec.message() : "not a directory"),
                "check the path and its permissions");
  if (::access(out.c_str(), W_OK) != 0) throw Error::from_errno("cannot write to", out);
  // One export at a time per output directory.
  Fd lock(::open((out / ".quickboot" / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!lock) throw Error::from_errno("cannot create", out / ".quickboot" / "lock");
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0)
    throw Error(fmt::format("another export into {} is running", out.string()));

  // OpenSSL's first use costs about a millisecond (provider set-up): started now on
  // its own thread, it overlaps the walk. Its result is the empty blob's digest.
  auto empty_digest = std::async(std::launch::async, [] { return sha256(""); });

  const fs::path state_file = out / ".quickboot" / "state";
  auto old = load_state(state_file);
  if (old && old->source != source.string()) old.reset();  // another source: start over
  clean_private_dir(out / ".quickboot");
  // DIR's mtime moves whenever a file is added or removed there; unchanged since the
  // last run means the recorded blob list is still true and the listing can be skipped.
  std::optional<std::unordered_set<std::string>> on_disk;
  if (!old || mtime_ns(out) != old->dir_mtime_ns) {
    on_disk.emplace();
    scan_out_dir(out, *on_disk);
  }
  store_ptr = std::make_unique<BlobStore>(out, o.zstd_level, old ? old->blobs : std::vector<BlobRecord>{},
                                         std::move(on_disk));
  BlobStore& store = *store_ptr;
  std::unique_ptr<Compressor> zc;
  if (o.zstd_level) zc = std::make_unique<Compressor>(o.zstd_level);
  timer.lap("prepare");

  SourceOptions so;
  for (auto& x : o.excludes) {
    std::string n;
    fs::path xp(x);
    // An absolute --exclude under the source is taken relative to it.
    if (xp.is_absolute() && is_dir && inside(fs::weakly_canonical(xp), source))
      n = fs::weakly_canonical(xp).lexically_relative(source).string();
    else if (!normalise_path(x, n))
      throw Error(fmt::format("--exclude {}: the path leaves the source", x));
    if (n == ".") n.clear();
    if (!n.empty()) so.excludes.push_back(n);
  }
  std::vector<std::string> unreadable_dirs;
  Tree tree;
  HashReport rep;
  // For each entry, the index of its record in the old state (-1: none). The state is
  // kept in the order of a depth-first walk over sorted children, so one merge pass
  // over both finds every record without a lookup structure.
  std::vector<std::int32_t> old_rec;
  bool racy_dirs = false;
  if (is_dir) {
    std::optional<WalkMemory> memory;
    // The walk memory would look for grafted names in the source: with grafts, list all.
    if (old && o.grafts.empty()) memory.emplace(*old);
    tree = walk_directory(source, so, unreadable_dirs, old ? old->recs().size() : 0, memory ? &*memory : nullptr);
    std::vector<std::uint32_t> graft_start;
    for (auto& g : o.grafts) {
      struct stat gst {};
      if (::stat(g.dir.c_str(), &gst) != 0) throw Error::from_errno("cannot stat", g.dir);
      graft_start.push_back(graft_tree(tree, g.at, walk_directory(g.dir, {}, unreadable_dirs), gst));
    }
    timer.lap("walk");
    delta.dirs_listed = tree.dirs_listed;
    racy_dirs = memory && memory->racy_dirs() > 0;
    std::vector<std::uint32_t> todo;
    old_rec.assign(tree.entries.size(), -1);
    std::size_t cur = 0;
    for_each_preorder(tree, [&](std::uint32_t i) {
      Entry& e = tree.entries[i];
      if (old) {
        // Usually the next record is this path; else skip the records of removed paths.
        const std::size_t n = old->recs().size();
        if (cur < n && old->path(old->recs()[cur]) != e.path)
          while (cur < n && path_less(old->path(old->recs()[cur]), e.path)) ++cur;
        if (cur < n && old->path(old->recs()[cur]) == e.path) old_rec[i] = static_cast<std::int32_t>(cur++);
      }
      if (!e.is_reg()) return;
      if (old_rec[i] >= 0) {
        const StatRecord& r = old->recs()[static_cast<std::size_t>(old_rec[i])];
        if (unchanged(r, e, old->written_ns)) {
          // The blob's name comes from the store (the state's blob list, or DIR's listing),
          // not from the record: a forged record could name a blob that no list has.
          int f = store.flags_of(r.digest);
          if (f >= 0) {
            e.digest = r.digest;
            e.hashed = true;
            e.blob_flags = static_cast<std::uint8_t>(f);
            return;
          }
        }
        e.hash_first = r.size == e.size && store.has(r.digest);
      }
      todo.push_back(i);
    });
    timer.lap("compare");
    Fd root(::open(source.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw Error::from_errno("cannot open", source);
    HashOptions ho;
    ho.backend = o.backend;
    ho.threads = o.threads;
    // A graft's files are read beneath its own directory, by their paths there.
    std::vector<std::vector<std::uint32_t>> graft_todo(o.grafts.size());
    std::erase_if(todo, [&](std::uint32_t i) {
      for (std::size_t g = graft_start.size(); g-- > 0;)
        if (i >= graft_start[g]) return graft_todo[g].push_back(i), true;
      return false;
    });
    rep = hash_files(root.get(), tree, todo, store, ho);
    for (std::size_t g = 0; g < o.grafts.size(); ++g) {
      if (graft_todo[g].empty()) continue;
      Fd groot(::open(o.grafts[g].dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!groot) throw Error::from_errno("cannot open", o.grafts[g].dir);
      const std::size_t cut = o.grafts[g].at.size() + 1;
      for (auto i : graft_todo[g]) tree.entries[i].path.erase(0, cut);
      HashReport gr = hash_files(groot.get(), tree, graft_todo[g], store, ho);
      for (auto i : graft_todo[g]) tree.entries[i].path.insert(0, o.grafts[g].at + "/");
      rep.files += gr.files;
      rep.bytes += gr.bytes;
      rep.reread = rep.reread || gr.reread;
      for (auto& u : gr.unreadable) rep.unreadable.push_back(u);
      for (auto& c : gr.changed) rep.changed.push_back(c);
      for (auto& v : gr.vanished) rep.vanished.push_back(v);
    }
    delta.backend = io::backend_name(rep.backend);
    timer.lap("hash");
  } else {
    tree = read_tar(source, so, store, zc.get());
    sort_children(tree);
    delta.backend = "libarchive";
    for (auto& e : tree.entries)
      if (e.is_reg()) { ++rep.files; rep.bytes += e.size; }
    timer.lap("read_tar");
  }
  delta.files_hashed = rep.files;
  delta.bytes_hashed = rep.bytes;

  // Unreadable files and directories: an error listing them, or left out on request.
  std::vector<std::string> bad = unreadable_dirs;
  for (auto& [p, err] : rep.unreadable) bad.push_back(fmt::format("{} ({})", p, std::strerror(err)));
  if (!bad.empty()) {
    if (!o.skip_unreadable) {
      std::string list;
      for (std::size_t i = 0; i < bad.size() && i < 20; ++i) list += "\n  " + bad[i];
      if (bad.size() > 20) list += fmt::format("\n  ... and {} more", bad.size() - 20);
      throw Error(fmt::format("cannot read {} entr{} of {}:{}", bad.size(), bad.size() == 1 ? "y" : "ies",
                              source.string(), list),
                  "fix their permissions, --exclude them, or pass --skip-unreadable to leave them out");
    }
  }
  // Left out: unreadable entries (with --skip-unreadable; else the error above) and
  // files removed or replaced while being read (hash_files warned about those).
  std::unordered_set<std::string> unread(unreadable_dirs.begin(), unreadable_dirs.end());
  for (auto& [p, err] : rep.unreadable) unread.insert(p);
  std::unordered_set<std::string> drop(rep.vanished.begin(), rep.vanished.end());
  drop.insert(unread.begin(), unread.end());
  for (std::uint32_t i = 0; i < tree.entries.size() && !drop.empty(); ++i)
    if (drop.count(tree.entries[i].path)) {
      if (unread.count(tree.entries[i].path)) log::warn("skipping unreadable {}", printable(tree.entries[i].path));
      // Its directory's listing no longer matches its entries: list it next time.
      if (auto p = tree.entries[i].parent; p >= 0) tree.entries[static_cast<std::size_t>(p)].listing_complete = false;
      drop_entry(tree, i);
      tree.skipped.push_back(tree.entries[i].path);
    }
  for (auto& p : tree.skipped) delta.skipped.push_back(printable(p));  // JSON needs UTF-8

  // v86 fetches the empty blob even for 0-byte reads: it must always exist.
  const Digest empty = empty_digest.get();
  store.put(empty, {}, zc.get());

  // Every hashed file's blob name flags first: from here on the renderer thread and
  // the state below read the entries at the same time, and nothing writes them.
  for (auto& e : tree.entries)
    if (e.is_reg() && e.hashed && e.blob_flags == 0xff) e.blob_flags = static_cast<std::uint8_t>(store.flags_of(e.digest));
  // fs.json is rendered on a second thread while this one builds the new state.
  std::string json;
  std::exception_ptr render_error;
  State st;
  {
    std::jthread renderer([&] {
      try {
        json = render_fs_json(tree, [&](const Entry& e, std::string& buf) {
          if (e.blob_flags != 0xff) append_name_of(e.digest, e.blob_flags, buf);
          else store.append_name(e.digest, buf);  // throws: no blob
        });
      } catch (...) {
        render_error = std::current_exception();
      }
    });
    // The new state, in the same depth-first order as the merge above, and the delta.
    st.source = source.string();
    st.zstd_level = o.zstd_level;
    st.entries.reserve(tree.entries.size());
    st.paths.reserve(old ? old->pool().size() + 4096 : tree.entries.size() * 24);
    // Blobs this run added that a live entry names (a file that changed while being
    // read may have left one behind that nothing names).
    // Without re-read files (directory source), every blob added names the content of a
    // file read this run, or the empty blob: all are named, no set is needed.
    const bool all_named = is_dir && !rep.reread;
    std::unordered_map<Digest, bool, DigestHash> fresh;
    std::vector<Digest> added_digests = store.added_digests();
    if (!all_named)
      for (auto& d : added_digests) fresh.emplace(d, false);
    std::vector<char> seen_old(old ? old->recs().size() : 0, 0);
    for_each_preorder(tree, [&](std::uint32_t i) {
      const Entry& e = tree.entries[i];
      ++delta.entries;
      delta.total_size += e.size;
      StatRecord r = record_of(e);
      if (!e.cacheable) {
        r.has_digest = 0;
        r.digest = Digest{};
      }
      if (e.is_reg() && e.hashed && !fresh.empty())
        if (auto it = fresh.find(e.digest); it != fresh.end()) it->second = true;
      std::int32_t k = i < old_rec.size() ? old_rec[i] : -1;
      if (old && !is_dir) {
        // tar: no merge above; look the path up
        if (const StatRecord* p = old->find(e.path)) k = static_cast<std::int32_t>(p - old->recs().data());
      }
      if (k < 0) {
        delta.entries_added.push_back(e.path);
      } else {
        seen_old[static_cast<std::size_t>(k)] = 1;
        const StatRecord& pr = old->recs()[static_cast<std::size_t>(k)];
        if (pr.mode != e.mode || pr.size != e.size || pr.mtime_ns != e.mtime_ns || pr.ctime_ns != e.ctime_ns ||
            pr.ino != e.ino || (e.is_reg() && pr.has_digest && pr.digest != e.digest))
          delta.entries_changed.push_back(e.path);
      }
      st.add(e.path, r, e.target);
    });
    if (old)
      for (std::size_t k = 0; k < old->recs().size(); ++k)
        if (!seen_old[k]) delta.entries_removed.push_back(std::string(old->path(old->recs()[k])));
    // The entry lists are in path order already (the walk's and the state's order).
    fresh[empty] = true;  // always referenced
    delta.blobs_added.reserve(added_digests.size());
    for (auto& d : added_digests)
      if (all_named || fresh[d]) delta.blobs_added.push_back(store.name_of(d));
    std::sort(delta.blobs_added.begin(), delta.blobs_added.end());
    delta.collisions = store.collisions();

    st.blobs = store.records();
  }  // joins the renderer
  if (render_error) std::rethrow_exception(render_error);
  timer.lap("render");

  // Every blob fs.json names must be in place before fs.json is: each was linked or
  // renamed into DIR before this point, so a killed run never publishes a missing
  // blob. Surviving a power failure as well takes --sync (git's default is the same:
  // no fsync of objects): then the new blobs reach the disk before fs.json is
  // replaced (one syncfs for many blobs, an fsync each for a few), and fs.json and
  // the state are fsync'd.
  Fd dfd(::open(out.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd) throw Error::from_errno("cannot open", out);
  if (o.durable) {
    auto added = store.added();
    if (added.size() > 64) {
      if (::syncfs(dfd.get()) != 0) throw Error::from_errno("cannot sync", out);
    } else {
      for (auto& n : added) {
        Fd b(::openat(dfd.get(), n.c_str(), O_RDONLY | O_CLOEXEC));
        if (!b || ::fsync(b.get()) != 0) throw Error::from_errno("cannot sync", out / n);
      }
      if (::fsync(dfd.get()) != 0) throw Error::from_errno("cannot sync", out);
    }
  }
  crash_point();
  delta.fs_json_changed = !file_equals(dfd.get(), "fs.json", json);
  if (delta.fs_json_changed) {
    AtomicFile f(out / "fs.json");
    f.write(json);
    f.commit(o.durable);
  }
  // fs.json names this run's blobs from here on (or named them already): a later
  // failure must not take them back. Before it, a failure (ENOSPC writing fs.json)
  // removes them: no orphans.
  store.published = true;
  if (delta.fs_json_changed && o.durable) ::fsync(dfd.get());
  crash_point();
  timer.lap("publish");

  st.dir_mtime_ns = mtime_ns(out);
  // Rewritten only when something changed, or when files were read (racily clean
  // entries re-read: the state's new mtime makes them trusted next time).
  bool state_changed = !old || delta.files_hashed > 0 || racy_dirs || !st.same_content(*old);
  if (state_changed) save_state(state_file, st, o.durable);
  crash_point();
  timer.lap("state");

  if (o.prune) {
    std::unordered_set<std::string> referenced;
    std::string n;
    for (auto& e : tree.entries)
      if (e.is_reg() && e.hashed) {
        n.clear();
        store.append_name(e.digest, n);
        referenced.insert(n);
      }
    referenced.insert(store.name_of(empty));
    std::unordered_set<std::string> present;
    scan_out_dir(out, present);
    for (auto& p : present) {
      if (referenced.count(p)) continue;
      if (::unlinkat(dfd.get(), p.c_str(), 0) != 0 && errno != ENOENT) throw Error::from_errno("cannot remove", out / p);
      store.forget(p);
      delta.blobs_removed.push_back(p);
      crash_point();
    }
    std::sort(delta.blobs_removed.begin(), delta.blobs_removed.end());
    if (!delta.blobs_removed.empty()) {
      st.blobs = store.records();
      st.dir_mtime_ns = mtime_ns(out);
      save_state(state_file, st, o.durable);
    }
    timer.lap("prune");
  }
  // The delta of the last run, for a sync to a web host.
  {
    AtomicFile f(out / ".quickboot" / "last-delta.json");
    f.write(delta.to_json_text());
    f.commit(o.durable);
  }
  return delta;
}

} // namespace qb::v86
