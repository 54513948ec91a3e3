#include "v86/blob_store.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

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

void Compressor::feed(std::span<const std::byte> in, AtomicFile& out, bool end) {
  if (obuf_.empty()) obuf_.resize(ZSTD_CStreamOutSize());
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  for (;;) {
    ZSTD_outBuffer ob{obuf_.data(), obuf_.size(), 0};
    std::size_t left = ZSTD_compressStream2(cctx_, &ob, &ib, end ? ZSTD_e_end : ZSTD_e_continue);
    zcheck(left, "compress");
    out.write(obuf_.data(), ob.pos);
    if (end ? left == 0 : ib.pos == ib.size) break;
  }
}

Digest blob_file_digest(const fs::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw Error::from_errno("cannot open", path);
  Sha256 h;
  std::vector<char> in(1 << 17), out(ZSTD_DStreamOutSize());
  bool zst = path.string().ends_with(".zst");
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

// ---- the store --------------------------------------------------------------

BlobStore::BlobStore(fs::path dir, int zstd_level, std::map<std::string, Digest> known,
                     std::optional<std::unordered_set<std::string>> on_disk)
    : dir_(std::move(dir)), level_(zstd_level) {
  for (auto& [name, d] : known) {
    if (on_disk && !on_disk->count(name)) continue;  // deleted behind our back
    if (!name.ends_with(ext())) {
      by_name_[name] = d;  // other encoding: keeps its name reserved, never reused
      continue;
    }
    by_name_[name] = d;
    by_digest_[d] = name;
  }
  if (on_disk)
    for (auto& n : *on_disk)
      if (!by_name_.count(n) && n.ends_with(ext())) unverified_.insert(n);
}

std::pair<std::string, BlobStore::Claim> BlobStore::claim(const Digest& d) {
  std::lock_guard lock(mu_);
  if (auto it = by_digest_.find(d); it != by_digest_.end()) return {it->second, Claim::exists};
  std::string hex = to_hex(d);
  std::string short_name = hex.substr(0, 8) + ext();
  if (unverified_.erase(short_name)) {
    // A blob we have no record of (an earlier run that died before its state was
    // saved, or another tool): trust it only if its content hashes the same.
    Digest have{};
    try {
      have = blob_file_digest(dir_ / short_name);
    } catch (const Error&) {
      have = Digest{};
    }
    by_name_[short_name] = have;
    if (have == d) {
      by_digest_[d] = short_name;
      return {short_name, Claim::exists};
    }
    if (have != Digest{}) by_digest_[have] = short_name;
    else by_name_.erase(short_name);  // unreadable: overwrite it
  }
  std::string name = short_name;
  if (auto it = by_name_.find(short_name); it != by_name_.end() && it->second != d) {
    ++collisions_;
    name = hex + ext();
    log::warn("blob name collision: {} and {} share {}; naming the second {}", to_hex(it->second), hex,
              short_name, name);
    // The long name is only ever given to this content; written by an earlier run?
    if (unverified_.erase(name)) {
      by_name_[name] = d;
      by_digest_[d] = name;
      return {name, Claim::exists};
    }
  }
  by_name_[name] = d;
  by_digest_[d] = name;
  added_.push_back(name);
  return {name, Claim::write};
}

std::string BlobStore::put(const Digest& d, std::span<const std::byte> data, Compressor* zc) {
  auto [name, c] = claim(d);
  if (c == Claim::exists) return name;
  AtomicFile f(dir_ / name);
  if (level_) {
    thread_local std::string buf;
    zc->compress(data, buf);
    f.write(buf);
  } else {
    f.write(data.data(), data.size());
  }
  // Durability comes from one syncfs before fs.json is published, not per blob.
  f.commit(false);
  crash_point();
  return name;
}

std::string BlobStore::adopt(const Digest& d, const fs::path& staged) {
  auto [name, c] = claim(d);
  if (c == Claim::exists) {
    ::unlink(staged.c_str());
    return name;
  }
  if (::rename(staged.c_str(), (dir_ / name).c_str()) != 0) throw Error::from_errno("cannot rename into", dir_ / name);
  crash_point();
  return name;
}

bool BlobStore::has(const Digest& d) const {
  std::lock_guard lock(mu_);
  return by_digest_.count(d) != 0;
}

std::string BlobStore::name_of(const Digest& d) const {
  std::lock_guard lock(mu_);
  auto it = by_digest_.find(d);
  if (it == by_digest_.end()) throw Error("internal: no blob for " + to_hex(d));
  return it->second;
}

std::map<std::string, Digest> BlobStore::known() const {
  std::lock_guard lock(mu_);
  std::map<std::string, Digest> out;
  for (auto& [n, d] : by_name_) out[n] = d;
  return out;
}

std::vector<std::string> BlobStore::added() const {
  std::lock_guard lock(mu_);
  return added_;
}

void BlobStore::forget(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return;
  auto bd = by_digest_.find(it->second);
  if (bd != by_digest_.end() && bd->second == name) by_digest_.erase(bd);
  by_name_.erase(it);
}

} // namespace qb::v86
