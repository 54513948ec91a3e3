#include "v86/hasher.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/log.hpp"
#include "core/io/open_beneath.hpp"
#include "v86/blob_store.hpp"

namespace qb::v86 {
namespace {

constexpr std::size_t batch_size = 128;
constexpr std::size_t big_chunk = 256 * 1024;  // read size for large files: stays in L2 between read, hash and write
constexpr std::size_t hole_piece = 64 * 1024;  // zero pieces of this size become holes

bool all_zero(std::span<const std::byte> d) {
  // Data that is not zero usually shows it in its first bytes: check those first.
  static const std::byte zeros[hole_piece] = {};
  std::size_t head = std::min<std::size_t>(d.size(), 64);
  if (std::memcmp(d.data(), zeros, head) != 0) return false;
  for (std::size_t p = head; p < d.size(); p += hole_piece)
    if (std::memcmp(d.data() + p, zeros, std::min(hole_piece, d.size() - p)) != 0) return false;
  return true;
}

// Outcome::error for a file that kept shrinking under a compressed read (a zstd frame
// records its size first): not published.
constexpr int kept_shrinking = -100;

// The outcome of reading one file.
struct Outcome {
  Digest digest{};
  std::uint64_t bytes = 0;
  int error = 0;      // an errno, io::not_regular or kept_shrinking
  bool grew = false;  // more than one chunk in a one-shot batch
  bool done = false;
  std::uint8_t blob_flags = 0xff;
  bool have_after = false;  // `after`: fstat of the descriptor read, once read (streamed files)
  struct stat after{};
};

// The same file (inode) with the same stat data as the walk saw.
bool same_stat(const Entry& e, const struct stat& st) {
  return S_ISREG(st.st_mode) && std::uint64_t(st.st_size) == e.size && st.st_ino == e.ino && st.st_dev == e.dev &&
         std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec == e.mtime_ns &&
         std::int64_t(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec == e.ctime_ns;
}

struct Pass {
  int root_fd;
  Tree& tree;
  BlobStore& store;
  const HashOptions& opts;
  std::vector<std::uint32_t> small, large;  // entry indices
  std::vector<Outcome> small_out, large_out;
  std::atomic<std::size_t> next_large{0}, next_small{0};
  std::atomic<std::uint64_t> files_done{0};
  std::mutex err_mu;
  std::exception_ptr failure;
  std::atomic<bool> stop{false};

  void worker() {
    try {
      std::unique_ptr<Compressor> zc;
      if (store.zstd_level()) zc = std::make_unique<Compressor>(store.zstd_level());
      // Large files first (longest first, so the cores finish together), one at a time
      // per thread: memory stays at one chunk and one zstd context per thread.
      if (!large.empty()) {
        std::vector<std::byte> buf(big_chunk);
        for (std::size_t i; !stop && (i = next_large++) < large.size();) do_large(zc.get(), buf, i);
      }
      if (small.empty() || stop) return;
      io::ReaderOptions ro;
      ro.backend = opts.backend;
      ro.root_fd = root_fd;
      ro.chunk_size = opts.large;
      ro.single_chunk = true;  // a small file that grew is read again, streamed
      io::BatchReader reader(ro);
      Sha256 h;  // one context per thread, reset by finish()
      std::vector<io::FileRequest> req;
      req.reserve(batch_size);
      for (std::size_t b; !stop && (b = next_small.fetch_add(batch_size)) < small.size();) {
        std::size_t n = std::min(batch_size, small.size() - b);
        req.clear();
        for (std::size_t k = 0; k < n; ++k) {
          const Entry& e = tree.entries[small[b + k]];
          req.push_back({e.path.c_str(), e.size});
        }
        reader.read(req, [&](const io::Chunk& c) {
          Outcome& o = small_out[b + c.file];
          if (c.error == io::too_long) { o.grew = true; return; }
          if (c.error) { o.error = c.error; return; }
          o.bytes = c.data.size();
          h.update(c.data.data(), c.data.size());
          o.digest = h.finish();
          store.put(o.digest, c.data, zc.get());
          o.blob_flags = static_cast<std::uint8_t>(store.flags_of(o.digest));
          o.done = true;
        });
        files_done += n;
      }
    } catch (...) {
      std::lock_guard lock(err_mu);
      if (!failure) failure = std::current_exception();
      stop = true;
    }
  }

  // Reads and hashes without writing: done (true) when the content's blob is already in
  // the store, else false with `o` reset for the streaming pass.
  bool hash_only(int fd, std::uint64_t size, Outcome& o) {
    Sha256 h;
    // 1 MiB reads: measured 2.8 GB/s on two cores against 2.65 with 64 or 256 KiB, and
    // a mapping of the file was slower still (page faults cost more than the copy).
    static thread_local std::vector<std::byte> big;
    if (big.empty()) big.resize(1 << 20);
    while (o.bytes < size) {
      ssize_t n = ::pread(fd, big.data(), std::min<std::uint64_t>(big.size(), size - o.bytes), static_cast<off_t>(o.bytes));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        o.bytes = 0;
        return false;  // the streaming pass reports the error or the shrinking
      }
      h.update(big.data(), static_cast<std::size_t>(n));
      o.bytes += static_cast<std::uint64_t>(n);
    }
    Digest d = h.finish();
    int flags = store.flags_of(d);
    if (flags < 0) {
      o.bytes = 0;
      return false;
    }
    o.digest = d;
    o.blob_flags = static_cast<std::uint8_t>(flags);
    o.done = true;
    o.have_after = ::fstat(fd, &o.after) == 0;
    files_done += 1;
    return true;
  }

  // Streams one large file into a blob file while hashing it, then adopts it. Plain
  // preads of `big_chunk` bytes into one buffer per thread: for a large file one
  // system call per MiB costs nothing next to SHA-256, and the blob is written from
  // the same buffer, so the content crosses user space once. Memory: one buffer and
  // one zstd context per thread.
  void do_large(Compressor* zc, std::vector<std::byte>& buf, std::size_t i) {
    Entry& e = tree.entries[large[i]];
    Outcome& o = large_out[i];
    read_streamed(zc, buf, e, o);
    files_done += 1;
  }

  // Opened beneath the root (no symlink anywhere on the path) and checked to be a
  // regular file; read up to the size fstat gives then, so a file that grows while
  // being read cannot make the read (or a zstd frame, which records its size first)
  // unbounded: it is exported as read, and the stat check after it sees the change.
  // A file that shrinks meanwhile is read again from the start (a few times).
  void read_streamed(Compressor* zc, std::vector<std::byte>& buf, const Entry& e, Outcome& o) {
    Fd in(io::open_beneath(root_fd, e.path.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK));
    if (!in) {
      o.error = errno;
      return;
    }
    ::posix_fadvise(in.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    for (int attempt = 0; attempt < 3; ++attempt) {
      struct stat st{};
      if (::fstat(in.get(), &st) != 0) {
        o.error = errno;
        return;
      }
      if (!S_ISREG(st.st_mode)) {
        o.error = io::not_regular;
        return;
      }
      o = Outcome{};
      const auto size = static_cast<std::uint64_t>(st.st_size);
      if (e.hash_first && hash_only(in.get(), size, o)) return;
      if (read_once(zc, buf, e, in.get(), size, o)) {
        o.have_after = ::fstat(in.get(), &o.after) == 0;
        return;
      }
      if (o.error) return;
    }
    o.error = kept_shrinking;
  }

  // One read of `size` bytes into a new blob. False when the file ended sooner (it
  // shrank): nothing is published then.
  bool read_once(Compressor* zc, std::vector<std::byte>& buf, const Entry& e, int fd, std::uint64_t size, Outcome& o) {
    BlobFile f(store.dir_fd());
    if (zc) zc->begin(size);
    Sha256 h;
    bool sparse_tail = false;
    while (o.bytes < size) {
      ssize_t n = ::pread(fd, buf.data(), std::min<std::uint64_t>(buf.size(), size - o.bytes), static_cast<off_t>(o.bytes));
      if (n < 0) {
        if (errno == EINTR) continue;
        o.error = errno;
        return false;
      }
      if (n == 0) return false;
      std::span<const std::byte> data(buf.data(), static_cast<std::size_t>(n));
      h.update(data.data(), data.size());
      o.bytes += data.size();
      if (zc) {
        zc->feed(data, f, false);
      } else {
        // Keep sparse files sparse: skip zero pieces and leave holes.
        for (std::size_t p = 0; p < data.size(); p += hole_piece) {
          auto piece = data.subspan(p, std::min(hole_piece, data.size() - p));
          if (all_zero(piece)) {
            if (::lseek(f.fd(), static_cast<off_t>(piece.size()), SEEK_CUR) < 0) throw Error::from_errno("cannot seek in a blob", e.path);
            sparse_tail = true;
          } else {
            f.write(piece.data(), piece.size());
            sparse_tail = false;
          }
        }
      }
    }
    if (zc) zc->feed({}, f, true);
    if (sparse_tail && ::ftruncate(f.fd(), static_cast<off_t>(o.bytes)) != 0)
      throw Error::from_errno("cannot truncate a blob", e.path);
    o.digest = h.finish();
    store.adopt(o.digest, f);
    o.blob_flags = static_cast<std::uint8_t>(store.flags_of(o.digest));
    o.done = true;
    return true;
  }
};

// Stat data from a fresh look (beneath the root); false when the path no longer
// resolves there.
bool restat(int root_fd, Entry& e) {
  struct stat st{};
  if (io::stat_beneath(root_fd, e.path.c_str(), st) != 0) return false;
  e.size = static_cast<std::uint64_t>(st.st_size);
  e.ino = st.st_ino;
  e.dev = st.st_dev;
  e.mode = st.st_mode;
  e.uid = st.st_uid;
  e.gid = st.st_gid;
  e.mtime_ns = std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  e.ctime_ns = std::int64_t(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  return true;
}

// One pass over `todo`; returns the indices that changed while being read.
std::vector<std::uint32_t> run_pass(int root_fd, Tree& tree, const std::vector<std::uint32_t>& todo, BlobStore& store,
                                    const HashOptions& opts, HashReport& rep, bool last_try) {
  Pass p{root_fd, tree, store, opts, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}};
  // The second pass streams everything: its files changed once already, and a streamed
  // read is bounded by the size fstat gives on the descriptor it reads.
  for (auto i : todo) (last_try || tree.entries[i].size >= opts.large ? p.large : p.small).push_back(i);
  std::sort(p.large.begin(), p.large.end(), [&](auto a, auto b) { return tree.entries[a].size > tree.entries[b].size; });
  p.small_out.resize(p.small.size());
  p.large_out.resize(p.large.size());
  unsigned n = opts.threads ? opts.threads : std::max(1u, std::thread::hardware_concurrency());
  n = static_cast<unsigned>(std::min<std::size_t>(n, p.large.size() + (p.small.size() + batch_size - 1) / batch_size));
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < n; ++t) threads.emplace_back([&p] { p.worker(); });
  if (log::stderr_is_tty()) {
    while (p.files_done < todo.size() && !p.stop) {
      log::progress(fmt::format("hashing {}/{} files", p.files_done.load(), todo.size()));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    log::progress_done();
  }
  for (auto& t : threads) t.join();
  if (p.failure) std::rethrow_exception(p.failure);

  std::vector<std::uint32_t> again;
  auto settle = [&](std::uint32_t idx, Outcome& o) {
    Entry& e = tree.entries[idx];
    // What is at the path now: the descriptor's own fstat for a streamed read, else a
    // fresh lstat. (A plain fstatat: the content was read beneath the root; should a
    // swapped directory lead this lstat elsewhere, the device and inode differ from the
    // walk's and the file counts as changed. One system call, not three, per file.)
    struct stat st{};
    bool seen = o.have_after ? (st = o.after, true) : ::fstatat(root_fd, e.path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    const bool same = seen && same_stat(e, st);
    if (o.error) {
      // An error on a path that is still the file the walk saw is the file's own
      // (permissions, I/O). Otherwise the path changed under the read (removed,
      // replaced by a FIFO or a symlink, a directory on the way swapped): look again.
      if (same && o.error != io::not_regular && o.error != kept_shrinking) {
        rep.unreadable.emplace_back(e.path, o.error);
      } else if (!last_try) {
        again.push_back(idx);
      } else {
        rep.vanished.push_back(e.path);
      }
      return;
    }
    bool stable = !o.grew && o.done && same && o.bytes == e.size;
    if (!stable && !last_try) {
      again.push_back(idx);
      return;
    }
    if (!o.done) {
      rep.vanished.push_back(e.path);
      return;
    }
    if (!stable) {
      // Still changing on the second read: publish what was read (size = bytes read,
      // so fs.json and the blob agree) and re-read it on the next run.
      rep.changed.push_back(e.path);
      e.size = o.bytes;
      e.cacheable = false;
    }
    e.digest = o.digest;
    e.hashed = true;
    e.blob_flags = o.blob_flags;
    ++rep.files;
    rep.bytes += o.bytes;
  };
  for (std::size_t i = 0; i < p.small.size(); ++i) settle(p.small[i], p.small_out[i]);
  for (std::size_t i = 0; i < p.large.size(); ++i) settle(p.large[i], p.large_out[i]);
  return again;
}

} // namespace

HashReport hash_files(int root_fd, Tree& tree, const std::vector<std::uint32_t>& todo, BlobStore& store,
                      const HashOptions& opts) {
  HashReport rep;
  rep.backend = io::resolve_backend(opts.backend);
  if (todo.empty()) return rep;
  HashOptions o = opts;
  // A ring with its registered buffers costs a few ms to set up; for a handful of
  // files (the usual re-export) plain reads are faster.
  if (opts.backend == io::Backend::automatic && todo.size() < 32) rep.backend = o.backend = io::Backend::pread;
  auto again = run_pass(root_fd, tree, todo, store, o, rep, false);
  if (!again.empty()) {
    rep.reread = true;
    // What is no longer a regular file beneath the root is not read again: it is left
    // out, and the next run sees it as what it has become.
    std::vector<std::uint32_t> files;
    for (auto i : again) {
      if (restat(root_fd, tree.entries[i]) && tree.entries[i].is_reg()) files.push_back(i);
      else rep.vanished.push_back(tree.entries[i].path);
    }
    run_pass(root_fd, tree, files, store, o, rep, true);
  }
  for (auto& path : rep.vanished)
    log::warn("{} was removed or replaced by something other than a file while it was read; left out (the next "
              "export looks again)", printable(path));
  for (auto& path : rep.changed) log::warn("{} kept changing while it was read; exported as last read", path);
  return rep;
}

} // namespace qb::v86
