#pragma once
// What the last export saw, offered to the next walk so it can skip work whose answer
// cannot have changed:
//  - listing a directory: adding, removing or renaming an entry moves the directory's
//    mtime and ctime, so a directory whose stat data equals the recorded one (and was
//    not racily clean: modified no earlier than the state was written, as for files)
//    still holds exactly the recorded names. Only listings that were complete are
//    recorded that way (none of their names excluded or skipped), so a name that an
//    --exclude hid last time is never lost.
//  - reading a symlink: its target cannot change in place, so the same inode with the
//    same ctime has the same target.
// The entries themselves are still lstat'ed one by one: a file's content changes
// without touching its directory.
#include <atomic>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "v86/state.hpp"
#include "v86/tree.hpp"

namespace qb::v86 {

class WalkMemory {
 public:
  static constexpr std::int32_t none = -1;

  explicit WalkMemory(const State& last);

  // Index of the record of `path`, or none.
  std::int32_t find(std::string_view path) const;

  // The records of directory `rec`'s entries when `dir` (record_of a fresh lstat) shows it
  // unchanged and its listing was complete; false otherwise (list it).
  bool children(std::int32_t rec, const StatRecord& dir, std::span<const std::uint32_t>& out) const;

  // The name (last component) of record `rec`.
  std::string_view name(std::uint32_t rec) const;

  // The target of symlink record `rec` when `link` (record_of a fresh lstat) shows it unchanged.
  bool target(std::int32_t rec, const StatRecord& link, std::string_view& out) const;

  // Directories that were unchanged but racily clean (recorded in the clock tick the
  // state was written in), so listed anyway: the state should be written again, or
  // they would be listed on every run.
  std::uint32_t racy_dirs() const { return racy_; }

 private:
  const State& last_;
  std::vector<std::uint32_t> first_child_;  // per record, into kids_ (one past the end: size)
  std::vector<std::uint32_t> kids_;         // record indices, grouped by parent
  std::vector<bool> untrusted_;             // per record: a child's name is not a plain name
  mutable std::atomic<std::uint32_t> racy_{0};
};

} // namespace qb::v86
