#include "v86/state.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/log.hpp"

namespace qb::v86 {

// Layout (native byte order; the magic holds a byte-order mark):
//   Header
//   StatRecord[entries]            sorted by path
//   BlobRecord[blobs]              sorted by digest, flags
//   char source[source_len]
//   char paths[paths_size]       each entry's path, then a stored symlink target
// `checksum` covers everything after the header.
namespace {

constexpr char magic[8] = {'q', 'b', 'v', '8', '6', 's', 't', '\x01'};
constexpr std::uint32_t version = 4;
constexpr std::uint32_t byte_order = 0x01020304;

struct Header {
  char magic[8];
  std::uint32_t version, byte_order;
  std::uint64_t entries, blobs, source_len, paths_size;
  std::int64_t dir_mtime_ns;
  std::int32_t zstd_level;
  std::uint32_t record_size;
  std::uint64_t checksum;
};

static_assert(sizeof(StatRecord) == 88);
static_assert(sizeof(BlobRecord) == 40);

// 64-bit multiply-xor over words, four independent lanes (so the multiplies overlap):
// several GB/s, enough to catch a torn or damaged file without showing in a re-export.
std::uint64_t checksum(const char* p, std::size_t n) {
  std::uint64_t h[4] = {0x9e3779b97f4a7c15ull ^ n, 0xc2b2ae3d27d4eb4full, 0x165667b19e3779f9ull, 0x27d4eb2f165667c5ull};
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int k = 0; k < 4; ++k) {
      std::uint64_t w;
      std::memcpy(&w, p + i + 8 * k, 8);
      h[k] = (h[k] ^ w) * 0xff51afd7ed558ccdull;
      h[k] ^= h[k] >> 32;
    }
  std::uint64_t t = 0;
  for (; i < n; ++i) t = (t << 8 | static_cast<unsigned char>(p[i])) * 0x100000001b3ull;
  std::uint64_t r = (h[0] ^ t) * 0xc4ceb9fe1a85ec53ull;
  for (int k = 1; k < 4; ++k) r = (r ^ h[k] ^ (r >> 29)) * 0xc4ceb9fe1a85ec53ull;
  return r ^ (r >> 29);
}

std::uint64_t state_checksum(const State& s) {
  std::uint64_t c = 0x243f6a8885a308d3ull;
  auto recs = s.recs();
  auto pool = s.pool();
  c ^= checksum(reinterpret_cast<const char*>(recs.data()), recs.size() * sizeof(StatRecord));
  c = c * 31 + checksum(reinterpret_cast<const char*>(s.blobs.data()), s.blobs.size() * sizeof(BlobRecord));
  c = c * 31 + checksum(s.source.data(), s.source.size());
  c = c * 31 + checksum(pool.data(), pool.size());
  return c;
}

bool read_all(int fd, char* p, std::size_t n) {
  while (n > 0) {
    ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

} // namespace

StatRecord record_of(const Entry& e) {
  StatRecord r;
  r.dev = e.dev;
  r.ino = e.ino;
  r.size = e.size;
  r.mtime_ns = e.mtime_ns;
  r.ctime_ns = e.ctime_ns;
  r.mode = e.mode;
  if (e.hashed) {
    r.has_digest = 1;
    r.digest = e.digest;
    r.blob_flags = e.blob_flags;
  }
  if (e.is_dir() && e.listing_complete) r.flags |= rec_listing_complete;
  if (e.is_lnk() && e.target.size() == e.size) r.flags |= rec_target_stored;
  return r;
}

bool unchanged(const StatRecord& o, const Entry& c, std::int64_t written_ns) {
  return o.has_digest && same_stat(o, c, written_ns);
}

const StatRecord* State::find(std::string_view p) const {
  auto rs = recs();
  auto it = std::lower_bound(rs.begin(), rs.end(), p,
                             [&](const StatRecord& r, std::string_view k) { return path_less(path(r), k); });
  if (it == rs.end() || path(*it) != p) return nullptr;
  return &*it;
}

void State::add(std::string_view p, StatRecord r, std::string_view target) {
  r.path_off = static_cast<std::uint32_t>(paths.size());
  r.path_len = static_cast<std::uint32_t>(p.size());
  paths.append(p);
  if (r.flags & rec_target_stored) {
    if (target.size() == r.size) paths.append(target);
    else r.flags &= static_cast<std::uint16_t>(~rec_target_stored);
  }
  entries.push_back(r);
}

void State::sort_entries() {
  std::sort(entries.begin(), entries.end(), [&](const StatRecord& a, const StatRecord& b) { return path_less(path(a), path(b)); });
  // Lay the path bytes out in the same order, so equal states are equal byte for byte.
  std::string np;
  np.reserve(paths.size());
  for (auto& r : entries) {
    std::uint32_t off = static_cast<std::uint32_t>(np.size());
    np.append(path(r));
    if (r.flags & rec_target_stored) np.append(target(r));
    r.path_off = off;
  }
  paths = std::move(np);
}

bool State::same_content(const State& o) const {
  auto a = recs(), b = o.recs();
  return source == o.source && zstd_level == o.zstd_level && dir_mtime_ns == o.dir_mtime_ns &&
         pool() == o.pool() && a.size() == b.size() && blobs.size() == o.blobs.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(StatRecord)) == 0 &&
         std::memcmp(blobs.data(), o.blobs.data(), blobs.size() * sizeof(BlobRecord)) == 0;
}

std::optional<State> load_state(const std::filesystem::path& file) {
  // Non-blocking: a FIFO put in its place must not hang the export.
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) return std::nullopt;
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return std::nullopt;
  auto damaged = [&](const char* why) -> std::optional<State> {
    log::warn("{} is {}; exporting everything again", file.string(), why);
    return std::nullopt;
  };
  if (!S_ISREG(st.st_mode)) return damaged("not a regular file");
  Header h{};
  auto fsize = static_cast<std::uint64_t>(st.st_size);
  if (fsize < sizeof h || !read_all(fd.get(), reinterpret_cast<char*>(&h), sizeof h)) return damaged("truncated");
  if (std::memcmp(h.magic, magic, sizeof magic) != 0 || h.version != version || h.byte_order != byte_order ||
      h.record_size != sizeof(StatRecord))
    return damaged("of another format or version");
  // Sizes checked before anything is allocated from them.
  constexpr std::uint64_t lim = 1ull << 40;
  if (h.entries > lim || h.blobs > lim || h.source_len > lim || h.paths_size > lim ||
      sizeof h + h.entries * sizeof(StatRecord) + h.blobs * sizeof(BlobRecord) + h.source_len + h.paths_size != fsize)
    return damaged("truncated");
  State s;
  s.written_ns = std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  s.zstd_level = h.zstd_level;
  s.dir_mtime_ns = h.dir_mtime_ns;
  // Mapped, not read: no copy and no zeroed buffers for the largest part; the page
  // cache pages are mapped in one go (MAP_POPULATE).
  void* m = ::mmap(nullptr, fsize, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd.get(), 0);
  if (m == MAP_FAILED) return damaged("unreadable");
  s.mapping = std::shared_ptr<const void>(m, [fsize](const void* p) { ::munmap(const_cast<void*>(p), fsize); });
  const char* base = static_cast<const char*>(m) + sizeof h;
  s.mapped_entries = {reinterpret_cast<const StatRecord*>(base), h.entries};
  base += h.entries * sizeof(StatRecord);
  s.blobs.resize(h.blobs);
  if (h.blobs) std::memcpy(s.blobs.data(), base, h.blobs * sizeof(BlobRecord));
  base += h.blobs * sizeof(BlobRecord);
  s.source.assign(base, h.source_len);
  base += h.source_len;
  s.mapped_paths = {base, h.paths_size};
  if (state_checksum(s) != h.checksum) return damaged("damaged (checksum)");
  // A checksum catches damage, not forgery: everything the exporter relies on is
  // checked too. Every path and stored target inside the pool, entries strictly in
  // path_less order (lookups are binary searches), digests only on regular files,
  // blob name flags that exist, blobs sorted.
  const StatRecord* prev = nullptr;
  for (auto& r : s.mapped_entries) {
    const std::uint64_t target = (r.flags & rec_target_stored) ? r.size : 0;
    if (target > h.paths_size || std::uint64_t(r.path_off) + r.path_len + target > h.paths_size) return damaged("damaged");
    if ((r.flags & rec_target_stored) && !S_ISLNK(r.mode)) return damaged("damaged");
    if (r.has_digest > 1 || (r.has_digest && (!S_ISREG(r.mode) || r.blob_flags > (blob_long | blob_zst))))
      return damaged("damaged");
    if (prev && !path_less(s.path(*prev), s.path(r))) return damaged("damaged (entries out of order)");
    prev = &r;
  }
  for (std::size_t i = 0; i < s.blobs.size(); ++i) {
    const auto& b = s.blobs[i];
    if (b.flags > (blob_long | blob_zst)) return damaged("damaged");
    if (i > 0) {
      const auto& a = s.blobs[i - 1];
      int c = std::memcmp(a.digest.data(), b.digest.data(), a.digest.size());
      if (c > 0 || (c == 0 && a.flags >= b.flags)) return damaged("damaged (blobs out of order)");
    }
  }
  return s;
}

bool reseal_state(std::string& bytes) {
  Header h{};
  if (bytes.size() < sizeof h) return false;
  std::memcpy(&h, bytes.data(), sizeof h);
  constexpr std::uint64_t lim = 1ull << 40;
  if (h.entries > lim || h.blobs > lim || h.source_len > lim || h.paths_size > lim ||
      sizeof h + h.entries * sizeof(StatRecord) + h.blobs * sizeof(BlobRecord) + h.source_len + h.paths_size != bytes.size())
    return false;
  // The same layout load_state views, over a copy of the records (alignment).
  State s;
  const char* base = bytes.data() + sizeof h;
  s.entries.resize(h.entries);
  if (h.entries) std::memcpy(s.entries.data(), base, h.entries * sizeof(StatRecord));
  base += h.entries * sizeof(StatRecord);
  s.blobs.resize(h.blobs);
  if (h.blobs) std::memcpy(s.blobs.data(), base, h.blobs * sizeof(BlobRecord));
  base += h.blobs * sizeof(BlobRecord);
  s.source.assign(base, h.source_len);
  base += h.source_len;
  s.paths.assign(base, h.paths_size);
  h.checksum = state_checksum(s);
  std::memcpy(bytes.data(), &h, sizeof h);
  return true;
}

void save_state(const std::filesystem::path& file, const State& s, bool durable) {
  Header h{};
  std::memcpy(h.magic, magic, sizeof magic);
  h.version = version;
  h.byte_order = byte_order;
  h.entries = s.entries.size();
  h.blobs = s.blobs.size();
  h.source_len = s.source.size();
  h.paths_size = s.paths.size();
  h.dir_mtime_ns = s.dir_mtime_ns;
  h.zstd_level = s.zstd_level;
  h.record_size = sizeof(StatRecord);
  h.checksum = state_checksum(s);
  AtomicFile f(file);
  f.write(&h, sizeof h);
  f.write(s.entries.data(), s.entries.size() * sizeof(StatRecord));
  f.write(s.blobs.data(), s.blobs.size() * sizeof(BlobRecord));
  f.write(s.source);
  f.write(s.paths);
  f.commit(durable);
}

} // namespace qb::v86
