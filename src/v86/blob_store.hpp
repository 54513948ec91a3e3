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
#include "core/sha256.hpp"

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
  void feed(std::span<const std::byte> in, AtomicFile& out, bool end);
  int level() const { return level_; }

private:
  ZSTD_CCtx_s* cctx_;
  int level_;
  std::vector<char> obuf_;
};

bool is_blob_name(std::string_view name);

class BlobStore {
public:
  // `zstd_level` 0 means plain ".bin" blobs. `known`: name -> full digest of blobs
  // the state says are in `dir`; `on_disk`: blob names found in `dir` (nullopt: trust
  // `known` without looking). Unknown names on disk are verified before reuse.
  BlobStore(fs::path dir, int zstd_level, std::map<std::string, Digest> known,
            std::optional<std::unordered_set<std::string>> on_disk);

  const fs::path& dir() const { return dir_; }
  int zstd_level() const { return level_; }
  std::string ext() const { return level_ ? ".bin.zst" : ".bin"; }

  // Blob name for `d`, writing `data` (the content) when it is not there yet.
  // Throws Error.
  std::string put(const Digest& d, std::span<const std::byte> data, Compressor* zc);
  // A blob staged (already in its final encoding) at `staged`: renamed into place
  // under its name, or removed when that blob exists. Throws Error.
  std::string adopt(const Digest& d, const fs::path& staged);
  // True when a blob of this content is in the store, in the current encoding.
  bool has(const Digest& d) const;
  // The name a digest has been given in this store; throws when none.
  std::string name_of(const Digest& d) const;

  // Every blob the store knows (name -> digest), for the state file.
  std::map<std::string, Digest> known() const;
  // Names of blobs this run wrote.
  std::vector<std::string> added() const;
  // Number of collisions of 8-hex names met.
  int collisions() const { return collisions_; }
  // Set once fs.json names this run's blobs: they may no longer be taken back.
  bool published = false;
  // Forget a blob (after --prune deleted it).
  void forget(const std::string& name);

private:
  enum class Claim { exists, write };
  std::pair<std::string, Claim> claim(const Digest& d);

  fs::path dir_;
  int level_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Digest> by_name_;
  std::unordered_map<Digest, std::string, DigestHash> by_digest_;
  std::unordered_set<std::string> unverified_;
  std::vector<std::string> added_;
  std::atomic<int> collisions_{0};
};

// SHA-256 of a blob file's uncompressed content (decompressing .zst). Throws Error.
Digest blob_file_digest(const fs::path& path);

// Test hook: when QUICKBOOT_CRASH_AT=N is set, the N-th call in this process raises
// SIGKILL. Called after each step that changes the output directory.
void crash_point();

} // namespace qb::v86
