#pragma once
// The content-addressed blob directory of an export. A blob is named after the first
// 8 hex digits of the SHA-256 of its uncompressed content, plus ".bin" or ".bin.zst".
// Two different contents whose names would collide are told apart by their full
// hashes: the content that claims the 8-hex name first keeps it, a later one is
// named with all 64 hex digits (docs/export.md). Thread-safe.
#include <atomic>
#include <cstring>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/fd.hpp"
#include "core/sha256.hpp"
#include "v86/state.hpp"

struct ZSTD_CCtx_s;

namespace qb::v86 {

namespace fs = std::filesystem;

struct DigestHash {
  std::size_t operator()(const Digest& d) const {
    std::size_t h;
    std::memcpy(&h, d.data(), sizeof h);
    return h;
  }
};

// Compresses one blob into one zstd frame with its content size and a window of at
// most 2^27 (what v86's decoder accepts). One per thread; reused across blobs.
class Compressor {
public:
  explicit Compressor(int level);
  ~Compressor();
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;
  // Whole-buffer compression into `out` (resized). Throws Error.
  void compress(std::span<const std::byte> in, std::string& out);
  // Streaming: begin with the total size (recorded in the frame), feed, end.
  void begin(std::uint64_t size);
  template <class Out> void feed(std::span<const std::byte> in, Out& out, bool end) {
    feed_to(in, end, [&](const char* p, std::size_t n) { out.write(p, n); });
  }
  void feed_to(std::span<const std::byte> in, bool end, const std::function<void(const char*, std::size_t)>& write);
  int level() const { return level_; }

private:
  ZSTD_CCtx_s* cctx_;
  int level_;
  std::vector<char> obuf_;
};

bool is_blob_name(std::string_view name);

// True for the temp names quickboot itself gives files in DIR, which a killed run may
// leave behind and the next run removes: "fs.json.tmp.XXXXXX" (AtomicFile),
// ".blob.tmp.PID.N" and "<blob name>.tmp.PID.N". Nothing else in DIR is ever deleted
// (a user's "notes.tmp.txt" stays).
bool is_own_temp_name(std::string_view name);

// A blob being written: an anonymous file in DIR (O_TMPFILE, or a temp name where the
// filesystem has none) that BlobStore::adopt links in under its name. Dropped unlinked
// (nothing left behind) when it is never adopted.
class BlobFile {
public:
  explicit BlobFile(int dir_fd);
  ~BlobFile();
  BlobFile(const BlobFile&) = delete;
  BlobFile& operator=(const BlobFile&) = delete;
  int fd() const { return fd_.get(); }
  void write(const void* data, std::size_t size);
  void write(std::string_view s) { write(s.data(), s.size()); }
  // Links the file in as `name` (replacing nothing: `name` must not exist). Throws Error.
  void link(const char* name);

private:
  int dir_;
  Fd fd_;
  std::string temp_;  // the temp name when O_TMPFILE is not supported
};

class BlobStore {
public:
  // `zstd_level` 0 means plain ".bin" blobs. `known`: blobs the state says are in
  // `dir` (sorted by digest, flags); `on_disk`: blob names found in `dir` (nullopt:
  // trust `known` without looking). Unknown names on disk are verified before reuse.
  BlobStore(fs::path dir, int zstd_level, std::vector<BlobRecord> known,
            std::optional<std::unordered_set<std::string>> on_disk);
  // The same from names (tests).
  BlobStore(fs::path dir, int zstd_level, const std::map<std::string, Digest>& known,
            std::optional<std::unordered_set<std::string>> on_disk);

  const fs::path& dir() const { return dir_; }
  int dir_fd() const { return dir_fd_.get(); }
  int zstd_level() const { return level_; }
  std::string ext() const { return level_ ? ".bin.zst" : ".bin"; }

  // Blob name for `d`, writing `data` (the content) when it is not there yet.
  // Throws Error.
  std::string put(const Digest& d, std::span<const std::byte> data, Compressor* zc);
  // A blob staged (already in its final encoding) at `staged`: renamed into place
  // under its name, or removed when that blob exists. Throws Error.
  std::string adopt(const Digest& d, const fs::path& staged);
  // The same for a BlobFile: linked in under its name, or dropped.
  std::string adopt(const Digest& d, BlobFile& f);
  // True when a blob of this content is in the store, in the current encoding.
  bool has(const Digest& d) const;
  // The name flags of that blob, or -1 when there is none.
  int flags_of(const Digest& d) const;
  // The name a digest has been given in this store; throws when none.
  std::string name_of(const Digest& d) const;
  // Appends that name to `out` without a temporary string.
  void append_name(const Digest& d, std::string& out) const;

  // Every blob the store knows, sorted, for the state file.
  std::vector<BlobRecord> records() const;
  // Names of blobs this run wrote.
  std::vector<std::string> added() const;
  std::size_t added_count() const;
  std::vector<Digest> added_digests() const;
  // Number of collisions of 8-hex names met.
  int collisions() const { return collisions_; }
  // Set once fs.json names this run's blobs: they may no longer be taken back.
  bool published = false;
  // Forget a blob (after --prune deleted it).
  void forget(const std::string& name);

private:
  enum class Claim { exists, write };
  // Claims a name for `d`; `flags` gets its blob_long bit.
  std::pair<std::uint8_t, Claim> claim(const Digest& d);
  // Flags of `d` in the current encoding, or -1.
  int lookup(const Digest& d) const;
  // The digest owning the short name of prefix `d` in the current encoding, if any.
  const Digest* short_owner(const Digest& d) const;
  std::string name(const Digest& d, std::uint8_t flags) const;

  fs::path dir_;
  Fd dir_fd_;
  int level_;
  std::uint8_t enc_;  // blob_zst or 0
  mutable std::mutex mu_;
  std::vector<BlobRecord> base_;  // from the state, sorted; never changes but for forget()
  std::vector<bool> base_gone_;
  std::vector<std::uint32_t> base_index_;  // first record of each 16-bit digest prefix (+ end)
  std::unordered_map<Digest, std::uint8_t, DigestHash> new_;  // claimed this run
  std::unordered_map<std::uint32_t, Digest> new_short_;        // prefix -> owner, this run
  std::unordered_set<std::string> unverified_;
  std::vector<Digest> added_;
  std::atomic<int> collisions_{0};
};

// Appends the file name of a blob to `out`.
void append_name_of(const Digest& d, std::uint8_t flags, std::string& out);

// SHA-256 of a blob file's uncompressed content (decompressing .zst). Throws Error.
Digest blob_file_digest(const fs::path& path);

// Test hook: when QUICKBOOT_CRASH_AT=N is set, the N-th call in this process raises
// SIGKILL. Called after each step that changes the output directory.
void crash_point();

} // namespace qb::v86
