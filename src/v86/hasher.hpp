#pragma once
// The parallel hashing pass over a directory source: reads the given regular files
// through qb::io::BatchReader on every core, hashes them with SHA-256 and stores their
// content in the blob store, so each changed file is read exactly once.
#include <cstdint>
#include <string>
#include <vector>

#include "core/io/batch_reader.hpp"
#include "v86/tree.hpp"

namespace qb::v86 {

class BlobStore;

struct HashOptions {
  io::Backend backend = io::Backend::automatic;
  unsigned threads = 0;  // 0: hardware concurrency
  std::uint64_t large = 256 * 1024;  // files from this size on are streamed
};

struct HashReport {
  std::vector<std::pair<std::string, int>> unreadable;  // path, errno
  std::vector<std::string> changed;  // still changing after a second read (warned)
  // Removed, or replaced by something that is not a regular file beneath the root (a
  // FIFO, a symlink, a directory on the way swapped for a symlink), while being read:
  // warned; the caller leaves them out.
  std::vector<std::string> vanished;
  std::uint64_t files = 0, bytes = 0;
  bool reread = false;  // some files were read twice: their first blob may be named by nothing
  io::Backend backend = io::Backend::automatic;
};

// Hashes tree.entries[i] for every i in `todo` (regular files, paths relative to
// root_fd, opened beneath it without following symlinks) and sets digest/hashed/size.
// A file whose stat data differs after the read
// (or whose length differs from its stat size) is read once more; if it still
// changes, its last read is used and it is marked not cacheable. Throws Error on a
// failure that is not about one file (disk full in DIR, ...).
HashReport hash_files(int root_fd, Tree& tree, const std::vector<std::uint32_t>& todo, BlobStore& store,
                      const HashOptions& opts);

} // namespace qb::v86
