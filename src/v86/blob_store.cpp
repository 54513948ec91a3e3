#include "v86/blob_store.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <zstd.h>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/log.hpp"

namespace qb::v86 {

void crash_point() {
  static const long at = [] {
    const char* v = std::getenv("QUICKBOOT_CRASH_AT");
    return v ? std::atol(v) : 0L;
  }();
  static std::atomic<long> n{0};
  if (at > 0 && ++n == at) ::raise(SIGKILL);
}

bool is_blob_name(std::string_view n) {
  std::size_t h = 0;
  while (h < n.size() && ((n[h] >= '0' && n[h] <= '9') || (n[h] >= 'a' && n[h] <= 'f'))) ++h;
  if (h != 8 && h != 64) return false;
  auto rest = n.substr(h);
  return rest == ".bin" || rest == ".bin.zst";
}

bool is_own_temp_name(std::string_view n) {
  auto digits = [](std::string_view s) {
    return !s.empty() && s.size() <= 20 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  // "PID.N"
  auto pid_n = [&](std::string_view s) {
    auto dot = s.find('.');
    return dot != std::string_view::npos && digits(s.substr(0, dot)) && digits(s.substr(dot + 1));
  };
  if (n.starts_with("fs.json.tmp.")) {
    auto x = n.substr(12);
    return x.size() == 6 && std::all_of(x.begin(), x.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
  }
  if (n.starts_with(".blob.tmp.")) return pid_n(n.substr(10));
  auto t = n.find(".tmp.");
  return t != std::string_view::npos && is_blob_name(n.substr(0, t)) && pid_n(n.substr(t + 5));
}

// ---- zstd -------------------------------------------------------------------

Compressor::Compressor(int level) : cctx_(ZSTD_createCCtx()), level_(level) {
  if (!cctx_) throw Error("zstd: cannot create a compression context");
}
Compressor::~Compressor() { ZSTD_freeCCtx(cctx_); }

static void zcheck(std::size_t r, const char* what) {
  if (ZSTD_isError(r)) throw Error(fmt::format("zstd: {}: {}", what, ZSTD_getErrorName(r)));
}

void Compressor::begin(std::uint64_t size) {
  zcheck(ZSTD_CCtx_reset(cctx_, ZSTD_reset_session_and_parameters), "reset");
  zcheck(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level_), "level");
  zcheck(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_contentSizeFlag, 1), "content size");
  zcheck(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 0), "checksum");
  // v86's decoder (zstd 1.4.5, no --long) takes windows up to 2^27 only. The level
  // tables never go past 27 (level 22 uses exactly 27) and the pledged size shrinks it
  // further, so no level can break that; blob_store_test checks frame headers.
  zcheck(ZSTD_CCtx_setPledgedSrcSize(cctx_, size), "size");
}

void Compressor::compress(std::span<const std::byte> in, std::string& out) {
  begin(in.size());
  out.resize(ZSTD_compressBound(in.size()));
  std::size_t n = ZSTD_compress2(cctx_, out.data(), out.size(), in.data(), in.size());
  zcheck(n, "compress");
  out.resize(n);
}

void Compressor::feed_to(std::span<const std::byte> in, bool end, const std::function<void(const char*, std::size_t)>& write) {
  if (obuf_.empty()) obuf_.resize(ZSTD_CStreamOutSize());
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  for (;;) {
    ZSTD_outBuffer ob{obuf_.data(), obuf_.size(), 0};
    std::size_t left = ZSTD_compressStream2(cctx_, &ob, &ib, end ? ZSTD_e_end : ZSTD_e_continue);
    zcheck(left, "compress");
    write(obuf_.data(), ob.pos);
    if (end ? left == 0 : ib.pos == ib.size) break;
  }
}

Digest blob_file_digest(const fs::path& path) {
  // Non-blocking and type-checked: a FIFO under a blob's name must not hang the run.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW));
  if (!fd) throw Error::from_errno("cannot open", path);
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) throw Error::from_errno("cannot stat", path);
  if (!S_ISREG(st.st_mode))
    throw Error(fmt::format("{} has a blob's name but is not a regular file", path.string()),
                "remove it; the next export writes the blob");
  Sha256 h;
  // Per thread, not per call: a re-run without its state verifies every blob.
  thread_local std::vector<char> in(1 << 17), out;
  bool zst = path.string().ends_with(".zst");
  if (zst && out.empty()) out.resize(ZSTD_DStreamOutSize());
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> d(zst ? ZSTD_createDCtx() : nullptr, ZSTD_freeDCtx);
  for (;;) {
    ssize_t n = ::read(fd.get(), in.data(), in.size());
    if (n < 0) throw Error::from_errno("cannot read", path);
    if (n == 0) break;
    if (!zst) { h.update(in.data(), static_cast<std::size_t>(n)); continue; }
    ZSTD_inBuffer ib{in.data(), static_cast<std::size_t>(n), 0};
    while (ib.pos < ib.size) {
      ZSTD_outBuffer ob{out.data(), out.size(), 0};
      std::size_t r = ZSTD_decompressStream(d.get(), &ob, &ib);
      if (ZSTD_isError(r)) throw Error(fmt::format("corrupt blob {}: {}", path.string(), ZSTD_getErrorName(r)));
      h.update(out.data(), ob.pos);
    }
  }
  return h.finish();
}

// ---- blob files ---------------------------------------------------------------

namespace {
// Blobs are 0644 whatever the umask (a web server must read them): fchmod only when
// the umask would take bits away. Read once, before any thread starts.
mode_t process_umask() {
  static const mode_t m = [] {
    mode_t u = ::umask(0);
    ::umask(u);
    return u;
  }();
  return m;
}
std::atomic<unsigned> temp_counter{0};
} // namespace

BlobFile::BlobFile(int dir_fd) : dir_(dir_fd) {
  int fd = ::openat(dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL || errno == ENOENT)) {
    // No O_TMPFILE here: a temp name, renamed into place (leftovers are removed by
    // the next run's scan of DIR, which drops every ".tmp." name).
    for (int tries = 0; fd < 0 && tries < 100; ++tries) {
      temp_ = fmt::format(".blob.tmp.{}.{}", ::getpid(), temp_counter++);
      fd = ::openat(dir_fd, temp_.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
      if (fd < 0 && errno != EEXIST) break;
    }
  }
  if (fd < 0) throw Error::from_errno("cannot create a blob file in the output directory", "");
  fd_.reset(fd);
  if (process_umask() & 0644) ::fchmod(fd, 0644);
}

BlobFile::~BlobFile() {
  fd_.reset();
  if (!temp_.empty()) ::unlinkat(dir_, temp_.c_str(), 0);
}

void BlobFile::write(const void* data, std::size_t size) {
  auto p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd_.get(), p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error::from_errno("cannot write a blob", "");
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void BlobFile::link(const char* name) {
  if (!temp_.empty()) {
    if (::renameat(dir_, temp_.c_str(), dir_, name) != 0) throw Error::from_errno("cannot rename into", name);
    temp_.clear();
    return;
  }
  // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc/self/fd works for everyone.
  int r = ::linkat(fd_.get(), "", dir_, name, AT_EMPTY_PATH);
  if (r != 0 && errno != EEXIST) {
    char proc[40];
    std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd_.get());
    r = ::linkat(AT_FDCWD, proc, dir_, name, AT_SYMLINK_FOLLOW);
  }
  if (r == 0) return;
  if (errno != EEXIST) throw Error::from_errno("cannot link the blob", name);
  // A stale file holds the name (it failed verification): link beside it, rename over.
  std::string tmp = fmt::format("{}.tmp.{}.{}", name, ::getpid(), temp_counter++);
  char proc[40];
  std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd_.get());
  if (::linkat(fd_.get(), "", dir_, tmp.c_str(), AT_EMPTY_PATH) != 0 &&
      ::linkat(AT_FDCWD, proc, dir_, tmp.c_str(), AT_SYMLINK_FOLLOW) != 0)
    throw Error::from_errno("cannot link the blob", name);
  if (::renameat(dir_, tmp.c_str(), dir_, name) != 0) {
    ::unlinkat(dir_, tmp.c_str(), 0);
    throw Error::from_errno("cannot rename into", name);
  }
}

// ---- the store --------------------------------------------------------------

namespace {

bool rec_less(const BlobRecord& a, const BlobRecord& b) {
  int c = std::memcmp(a.digest.data(), b.digest.data(), a.digest.size());
  return c < 0 || (c == 0 && a.flags < b.flags);
}

std::uint32_t prefix_of(const Digest& d) {
  return std::uint32_t(d[0]) << 24 | std::uint32_t(d[1]) << 16 | std::uint32_t(d[2]) << 8 | d[3];
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Parses a blob name: its digest (only the first 4 bytes for an 8-hex name) and flags.
bool parse_blob_name(std::string_view n, Digest& d, std::uint8_t& flags) {
  if (!is_blob_name(n)) return false;
  std::size_t h = n.find('.');
  d = Digest{};
  for (std::size_t i = 0; i + 1 < h; i += 2) d[i / 2] = static_cast<std::uint8_t>(hexval(n[i]) << 4 | hexval(n[i + 1]));
  flags = static_cast<std::uint8_t>((h == 64 ? blob_long : 0) | (n.ends_with(".zst") ? blob_zst : 0));
  return true;
}

} // namespace

std::string BlobStore::name(const Digest& d, std::uint8_t flags) const {
  std::string s;
  s.reserve(72);
  append_name_of(d, flags, s);
  return s;
}

void append_name_of(const Digest& d, std::uint8_t flags, std::string& out) {
  static constexpr char hex[] = "0123456789abcdef";
  std::size_t n = flags & blob_long ? 32 : 4;
  std::size_t at = out.size();
  out.resize(at + 2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out[at + 2 * i] = hex[d[i] >> 4];
    out[at + 2 * i + 1] = hex[d[i] & 15];
  }
  out.append(flags & blob_zst ? ".bin.zst" : ".bin");
}

static std::vector<BlobRecord> records_from_names(const std::map<std::string, Digest>& known) {
  std::vector<BlobRecord> v;
  for (auto& [n, d] : known) {
    Digest pd;
    BlobRecord r;
    if (!parse_blob_name(n, pd, r.flags)) continue;
    r.digest = d;
    v.push_back(r);
  }
  std::sort(v.begin(), v.end(), rec_less);
  return v;
}

BlobStore::BlobStore(fs::path dir, int zstd_level, const std::map<std::string, Digest>& known,
                     std::optional<std::unordered_set<std::string>> on_disk)
    : BlobStore(std::move(dir), zstd_level, records_from_names(known), std::move(on_disk)) {}

BlobStore::BlobStore(fs::path dir, int zstd_level, std::vector<BlobRecord> known,
                     std::optional<std::unordered_set<std::string>> on_disk)
    : dir_(std::move(dir)), level_(zstd_level), enc_(zstd_level ? blob_zst : 0) {
  process_umask();
  dir_fd_.reset(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd_) throw Error::from_errno("cannot open", dir_);
  if (!std::is_sorted(known.begin(), known.end(), rec_less)) std::sort(known.begin(), known.end(), rec_less);
  if (on_disk) {
    // Keep only what is still there; names on disk the state does not know are
    // verified before they are reused.
    std::unordered_set<std::string> known_names;
    std::vector<BlobRecord> kept;
    std::string n;
    for (auto& r : known) {
      n.clear();
      append_name_of(r.digest, r.flags, n);
      if (!on_disk->count(n)) continue;  // deleted behind our back
      known_names.insert(n);
      kept.push_back(r);
    }
    known = std::move(kept);
    for (auto& name : *on_disk)
      if (!known_names.count(name) && name.ends_with(ext())) unverified_.insert(name);
  }
  base_ = std::move(known);
  base_gone_.assign(base_.size(), false);
  // Digests are uniform: a table by the first 16 bits leaves a search of a few records.
  base_index_.assign(65537, 0);
  for (auto& r : base_) ++base_index_[(std::uint32_t(r.digest[0]) << 8 | r.digest[1]) + 1];
  for (std::size_t i = 1; i < base_index_.size(); ++i) base_index_[i] += base_index_[i - 1];
}

int BlobStore::lookup(const Digest& d) const {
  if (auto it = new_.find(d); it != new_.end()) return it->second;
  BlobRecord key;
  key.digest = d;
  std::uint32_t b = std::uint32_t(d[0]) << 8 | d[1];
  auto end = base_.begin() + base_index_[b + 1];
  auto it = std::lower_bound(base_.begin() + base_index_[b], end, key, rec_less);
  for (; it != end && it->digest == d; ++it)
    if ((it->flags & blob_zst) == enc_ && !base_gone_[std::size_t(it - base_.begin())]) return it->flags;
  return -1;
}

const Digest* BlobStore::short_owner(const Digest& d) const {
  BlobRecord key;
  std::memcpy(key.digest.data(), d.data(), 4);
  std::uint32_t p = prefix_of(d);
  for (auto it = std::lower_bound(base_.begin(), base_.end(), key, rec_less);
       it != base_.end() && prefix_of(it->digest) == p; ++it)
    if (it->flags == enc_ && !base_gone_[std::size_t(it - base_.begin())]) return &it->digest;
  if (auto it = new_short_.find(p); it != new_short_.end()) return &it->second;
  return nullptr;
}

std::pair<std::uint8_t, BlobStore::Claim> BlobStore::claim(const Digest& d) {
  std::lock_guard lock(mu_);
  if (int f = lookup(d); f >= 0) return {static_cast<std::uint8_t>(f), Claim::exists};
  std::string short_name = name(d, enc_);
  if (!unverified_.empty() && unverified_.erase(short_name)) {
    // A blob we have no record of (an earlier run that died before its state was
    // saved, or another tool): trust it only if its content hashes the same.
    Digest have{};
    try {
      have = blob_file_digest(dir_ / short_name);
    } catch (const Error&) {
      have = Digest{};
    }
    if (have == d) {
      new_[d] = enc_;
      new_short_[prefix_of(d)] = d;
      return {enc_, Claim::exists};
    }
    // Other content under this name (a damaged blob, another tool's file): the name
    // stays taken, so this content gets the long name. Unreadable: the name is free,
    // and the write replaces the file.
    if (have != Digest{}) new_short_[prefix_of(d)] = have;
  }
  std::uint8_t flags = enc_;
  if (const Digest* owner = short_owner(d); owner && *owner != d) {
    ++collisions_;
    flags |= blob_long;
    std::string long_name = name(d, flags);
    log::warn("blob name collision: {} and {} share {}; naming the second {}", to_hex(*owner), to_hex(d),
              short_name, long_name);
    // The long name is only ever given to this content; written by an earlier run?
    if (!unverified_.empty() && unverified_.erase(long_name)) {
      new_[d] = flags;
      return {flags, Claim::exists};
    }
  } else {
    new_short_[prefix_of(d)] = d;
  }
  new_[d] = flags;
  added_.push_back(d);
  return {flags, Claim::write};
}

std::string BlobStore::put(const Digest& d, std::span<const std::byte> data, Compressor* zc) {
  auto [flags, c] = claim(d);
  std::string n = name(d, flags);
  if (c == Claim::exists) return n;
  BlobFile f(dir_fd_.get());
  if (level_) {
    thread_local std::string buf;
    zc->compress(data, buf);
    f.write(buf);
  } else {
    f.write(data.data(), data.size());
  }
  // No fsync: durability is the exporter's business (--sync), not each blob's.
  f.link(n.c_str());
  crash_point();
  return n;
}

std::string BlobStore::adopt(const Digest& d, BlobFile& f) {
  auto [flags, c] = claim(d);
  std::string n = name(d, flags);
  if (c == Claim::exists) return n;
  f.link(n.c_str());
  crash_point();
  return n;
}

std::string BlobStore::adopt(const Digest& d, const fs::path& staged) {
  auto [flags, c] = claim(d);
  std::string n = name(d, flags);
  if (c == Claim::exists) {
    ::unlink(staged.c_str());
    return n;
  }
  if (::rename(staged.c_str(), (dir_ / n).c_str()) != 0) throw Error::from_errno("cannot rename into", dir_ / n);
  crash_point();
  return n;
}

bool BlobStore::has(const Digest& d) const { return flags_of(d) >= 0; }

int BlobStore::flags_of(const Digest& d) const {
  std::lock_guard lock(mu_);
  return lookup(d);
}

std::string BlobStore::name_of(const Digest& d) const {
  std::string s;
  append_name(d, s);
  return s;
}

void BlobStore::append_name(const Digest& d, std::string& out) const {
  int f;
  {
    std::lock_guard lock(mu_);
    f = lookup(d);
  }
  if (f < 0) throw Error("internal: no blob for " + to_hex(d));
  append_name_of(d, static_cast<std::uint8_t>(f), out);
}

std::vector<BlobRecord> BlobStore::records() const {
  std::lock_guard lock(mu_);
  std::vector<BlobRecord> fresh;
  fresh.reserve(new_.size());
  for (auto& [d, f] : new_) {
    BlobRecord r;
    r.digest = d;
    r.flags = f;
    fresh.push_back(r);
  }
  std::sort(fresh.begin(), fresh.end(), rec_less);
  std::vector<BlobRecord> out;
  out.reserve(base_.size() + fresh.size());
  std::size_t i = 0;
  for (auto& r : fresh) {
    for (; i < base_.size() && rec_less(base_[i], r); ++i)
      if (!base_gone_[i]) out.push_back(base_[i]);
    out.push_back(r);
  }
  for (; i < base_.size(); ++i)
    if (!base_gone_[i]) out.push_back(base_[i]);
  return out;
}

std::vector<std::string> BlobStore::added() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  out.reserve(added_.size());
  for (auto& d : added_) {
    auto it = new_.find(d);
    out.push_back(name(d, it == new_.end() ? enc_ : it->second));
  }
  return out;
}

std::vector<Digest> BlobStore::added_digests() const {
  std::lock_guard lock(mu_);
  return added_;
}

std::size_t BlobStore::added_count() const {
  std::lock_guard lock(mu_);
  return added_.size();
}

void BlobStore::forget(const std::string& n) {
  Digest d;
  std::uint8_t flags;
  if (!parse_blob_name(n, d, flags)) return;
  std::lock_guard lock(mu_);
  std::size_t k = flags & blob_long ? 32 : 4;
  BlobRecord key;
  std::memcpy(key.digest.data(), d.data(), k);
  for (auto it = std::lower_bound(base_.begin(), base_.end(), key, rec_less);
       it != base_.end() && std::memcmp(it->digest.data(), d.data(), k) == 0; ++it)
    if (it->flags == flags) base_gone_[std::size_t(it - base_.begin())] = true;
  if ((flags & blob_zst) != enc_) return;
  if (flags & blob_long) {
    if (auto it = new_.find(d); it != new_.end() && it->second == flags) new_.erase(it);
  } else if (auto s = new_short_.find(prefix_of(d)); s != new_short_.end()) {
    if (auto it = new_.find(s->second); it != new_.end() && it->second == flags) new_.erase(it);
    new_short_.erase(s);
  }
}

} // namespace qb::v86
