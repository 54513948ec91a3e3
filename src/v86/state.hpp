#pragma once
// quickboot's record of the last export into a directory, kept in
// DIR/.quickboot/state: the stat data and hash of every entry (keyed by path, as git's
// index is), the blobs known to be in DIR, and DIR's own mtime when they were listed.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/sha256.hpp"
#include "v86/tree.hpp"

namespace qb::v86 {

struct StatRecord {
  std::uint64_t dev = 0, ino = 0, size = 0;
  std::int64_t mtime_ns = 0, ctime_ns = 0;
  std::uint32_t mode = 0;
  std::optional<Digest> digest;  // regular files whose content is known
};

struct State {
  std::string source;            // what was exported (absolute path)
  int zstd_level = 0;
  std::int64_t dir_mtime_ns = 0;  // DIR's mtime after the last run's blob changes
  std::int64_t written_ns = 0;    // the state file's own mtime (racy-git check)
  std::unordered_map<std::string, StatRecord> entries;
  std::map<std::string, Digest> blobs;
};

// Reads DIR/.quickboot/state; nullopt when absent or unreadable (a fresh export).
std::optional<State> load_state(const std::filesystem::path& file);

// Writes it atomically and durably. Throws Error.
void save_state(const std::filesystem::path& file, const State& s);

// The record for an entry of a tree.
StatRecord record_of(const Entry& e);

// True when `cur` (from a fresh lstat) shows the same file, unchanged, as `old`,
// and `old` was not racily clean (modified no earlier than the state was written).
bool unchanged(const StatRecord& old, const Entry& cur, std::int64_t state_written_ns);

} // namespace qb::v86
