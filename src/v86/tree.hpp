#pragma once
// The in-memory tree an export works on: one Entry per file, directory, symlink or
// special file, in a flat vector; directories list their children by index.
#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/sha256.hpp"

namespace qb::v86 {

struct Entry {
  std::string path;           // relative to the source root, '/'-separated, no leading '/'
  std::uint32_t mode = 0;     // full st_mode, type bits included
  std::uint32_t uid = 0, gid = 0;
  std::uint64_t size = 0;     // st_size; for files, the blob's uncompressed length
  std::int64_t mtime_ns = 0;  // fs.json keeps whole seconds; the state keeps ns
  std::int64_t ctime_ns = 0;
  std::uint64_t dev = 0, ino = 0;
  std::string target;         // symlink target
  Digest digest{};            // regular files, once hashed
  bool hashed = false;
  std::uint8_t blob_flags = 0xff;  // the blob's name flags once known (v86/state.hpp); 0xff: ask the store
  bool cacheable = true;      // false: stat data not trusted (racy, changed while read)
  // Stat data changed but not the size, and the old blob is still there (a touch, a
  // checkout of the same content): a large file is hashed first and written only
  // when its blob turns out to be missing.
  bool hash_first = false;
  bool listing_complete = false;  // directories: every name in it is an entry (none excluded or skipped)
  std::int32_t parent = -1;   // index of the parent directory; -1 for children of '/'
  std::uint32_t name_at = ~0u;  // where the last component starts in `path`, when known
  std::vector<std::uint32_t> children;  // directories

  std::string_view name() const {
    if (name_at != ~0u) return std::string_view(path).substr(name_at);
    auto s = path.rfind('/');
    return s == std::string::npos ? std::string_view(path) : std::string_view(path).substr(s + 1);
  }
  bool is_dir() const { return S_ISDIR(mode); }
  bool is_reg() const { return S_ISREG(mode); }
  bool is_lnk() const { return S_ISLNK(mode); }
};

struct Tree {
  std::vector<Entry> entries;
  std::vector<std::uint32_t> root;  // children of '/'
  std::vector<std::string> skipped; // paths left out, with a warning already printed
  std::uint64_t dirs_listed = 0;     // directories read (the others were known unchanged)
};

// Seconds of a nanosecond timestamp, rounded toward minus infinity like st_mtim.tv_sec.
inline std::int64_t seconds(std::int64_t ns) { return ns >= 0 ? ns / 1000000000 : -((-ns + 999999999) / 1000000000); }

// Printable form of a path that may hold bytes that are not UTF-8 ("\xNN").
std::string printable(std::string_view path);

} // namespace qb::v86
