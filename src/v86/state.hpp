#pragma once
// quickboot's record of the last export into a directory, kept in
// DIR/.quickboot/state: the stat data and hash of every entry (keyed by path, as git's
// index is), the blobs known to be in DIR, and DIR's own mtime when they were listed.
//
// The file is binary (native byte order, checked by the magic): a header, then the
// entry records sorted bytewise by path, the path bytes, and the blob records sorted by
// digest. It is read with one read() and no per-line parsing; lookups are binary
// searches. A file that is missing, of another version, truncated or corrupt (its
// checksum does not match) is ignored: the run is a fresh export.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/sha256.hpp"
#include "v86/tree.hpp"

namespace qb::v86 {

// The order of the state's entries: bytewise, except that '/' sorts before every other
// byte, so a depth-first walk over children sorted by name visits paths in this order.
inline bool path_less(std::string_view a, std::string_view b) {
  std::size_t n = a.size() < b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < n; ++i) {
    unsigned x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x == y) continue;
    x = x == '/' ? 0 : x;
    y = y == '/' ? 0 : y;
    return x < y;
  }
  return a.size() < b.size();
}

// One entry, as stored (fixed size; the path lives in State::paths).
inline constexpr std::uint8_t blob_long = 1, blob_zst = 2;
// StatRecord::flags
inline constexpr std::uint16_t rec_listing_complete = 1;  // a directory whose every entry is recorded
inline constexpr std::uint16_t rec_target_stored = 2;     // a symlink whose target follows its path (size bytes)

struct StatRecord {
  std::uint64_t dev = 0, ino = 0, size = 0;
  std::int64_t mtime_ns = 0, ctime_ns = 0;
  std::uint32_t mode = 0;
  std::uint8_t has_digest = 0;  // 1: regular file whose content is known
  std::uint8_t blob_flags = 0;  // its blob's name flags (blob_long, blob_zst)
  std::uint16_t flags = 0;       // rec_listing_complete, rec_target_stored
  std::uint32_t path_off = 0, path_len = 0;
  Digest digest{};
};

// A blob in DIR. Its name follows from the digest and the flags.
struct BlobRecord {
  Digest digest{};
  std::uint8_t flags = 0;  // blob_long: named with 64 hex digits; blob_zst: ".bin.zst"
  std::uint8_t pad[7] = {};
};

struct State {
  std::string source;             // what was exported (absolute path)
  int zstd_level = 0;
  std::int64_t dir_mtime_ns = 0;  // DIR's mtime after the last run's blob changes
  std::int64_t written_ns = 0;    // the state file's own mtime (racy-git check)
  // A state being built keeps its entries and path bytes here; a loaded one maps the
  // file and views them in place (see recs() and pool()).
  std::vector<StatRecord> entries;  // sorted by path_less
  std::string paths;                // path bytes of the entries
  std::vector<BlobRecord> blobs;    // sorted by (digest, flags)
  std::shared_ptr<const void> mapping;
  std::span<const StatRecord> mapped_entries;
  std::string_view mapped_paths;

  std::span<const StatRecord> recs() const { return mapping ? mapped_entries : std::span<const StatRecord>(entries); }
  std::string_view pool() const { return mapping ? mapped_paths : std::string_view(paths); }
  std::string_view path(const StatRecord& r) const { return {pool().data() + r.path_off, r.path_len}; }
  // A symlink's recorded target (rec_target_stored).
  std::string_view target(const StatRecord& r) const {
    return {pool().data() + r.path_off + r.path_len, static_cast<std::size_t>(r.size)};
  }
  // The record of `path`, or nullptr.
  const StatRecord* find(std::string_view path) const;
  // Appends a record (callers add in sorted order, or call sort_entries()). A symlink's
  // target is kept when r.flags has rec_target_stored (then target.size() == r.size).
  void add(std::string_view path, StatRecord r, std::string_view target = {});
  void sort_entries();
  // Same entries, blobs and header fields (written_ns aside).
  bool same_content(const State& o) const;
};

// Reads DIR/.quickboot/state; nullopt when absent, of another version or damaged
// (a fresh export).
std::optional<State> load_state(const std::filesystem::path& file);

// Recomputes the checksum of an encoded state file in place, so tests and the fuzzer
// can forge states that get past it (a checksum catches damage, not malice: the
// loader checks everything else itself). False when `bytes` has no consistent header.
bool reseal_state(std::string& bytes);

// Writes it atomically; with `durable`, fsync'd before the rename. Throws Error.
void save_state(const std::filesystem::path& file, const State& s, bool durable);

// The record for an entry of a tree (path fields left for State::add; a symlink's
// target is stored when its length is its st_size, as it is on Linux filesystems).
StatRecord record_of(const Entry& e);

// git's racy-clean rule, shared by files, directories and symlinks: `now` (an Entry or
// a StatRecord from a fresh lstat) is the same inode with the same stat data as `old`,
// and `old` was recorded strictly before the state was written (an entry modified in
// the same clock tick as the state could have changed again unseen).
template <class Now> bool same_stat(const StatRecord& old, const Now& now, std::int64_t state_written_ns) {
  return old.dev == now.dev && old.ino == now.ino && old.size == now.size && old.mtime_ns == now.mtime_ns &&
         old.ctime_ns == now.ctime_ns && old.mode == now.mode && old.mtime_ns < state_written_ns &&
         old.ctime_ns < state_written_ns;
}

// True when `cur` (from a fresh lstat) shows the same file, unchanged, as `old`,
// and `old` was not racily clean (modified no earlier than the state was written).
bool unchanged(const StatRecord& old, const Entry& cur, std::int64_t state_written_ns);

} // namespace qb::v86
