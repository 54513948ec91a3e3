#pragma once
// Recursive inotify watcher with debounce. One inotify instance watches any number of
// roots (directory trees or single files); next() blocks until a coalesced batch of
// changes is ready, a stop fd becomes readable, or a deadline passes.
//
// Events are hints (watchman): callers stat the paths they are given. A batch flagged
// `overflowed` carries a `rescan` change per root and means "some events were lost,
// rescan everything"; the watches themselves are repaired before the batch is returned.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "watch/ignore.hpp"

namespace qb::watch {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Change {
  enum class Kind {
    modified,  // content written (IN_CLOSE_WRITE) or metadata changed (IN_ATTRIB)
    created,   // appeared: created, or moved in from elsewhere
    deleted,   // gone: deleted, or moved away; a deleted directory means its whole subtree
    rescan,    // events under `path` may have been lost: rescan it (path "" = the whole root)
  };
  std::string root_id;
  fs::path path;      // relative to the root; empty for the root itself (and for a file root)
  Kind kind = Kind::modified;
  bool is_dir = false;

  friend bool operator==(const Change&, const Change&) = default;
};

const char* to_string(Change::Kind kind);

struct Batch {
  // One entry per (root, path), in first-seen order. Kinds merge: created then written
  // stays `created`; otherwise the last event wins.
  std::vector<Change> changes;
  bool overflowed = false;                 // the kernel queue overflowed: rescan
  std::chrono::milliseconds waited{};      // from the first event read to delivery
};

struct Options {
  // A batch is delivered once no event arrived for `debounce`, or `max_delay` after
  // its first event, whichever comes first, so a steady stream still yields batches.
  // The quiet period grows with the batch: one more `debounce` per 1,000 changes, up to
  // 4x. A bulk write (git checkout, rsync, tar x) can stall on writeback for longer
  // than 50 ms between two files; waiting a little longer keeps it one cycle, and
  // costs little next to a cycle over thousands of files. One edited file still waits
  // only `debounce`.
  std::chrono::milliseconds debounce{50};
  std::chrono::milliseconds max_delay{1000};
  // Names ignored on top of default_ignore_patterns(); see ignore.hpp for the syntax.
  std::vector<std::string> ignore;
  // Absolute paths whose whole subtree is ignored and not watched (an export output dir).
  std::vector<fs::path> ignore_paths;
  // Replace the default editor-temporary patterns instead of adding to them.
  bool no_default_ignores = false;
};

class Watcher {
public:
  // Throws qb::Error (naming fs.inotify.max_user_instances on EMFILE).
  explicit Watcher(Options options = {});
  ~Watcher();
  Watcher(Watcher&&) noexcept;
  Watcher& operator=(Watcher&&) noexcept;

  // Watches `path` under `id`: a directory recursively (following directories as they
  // are created, moved and deleted), or a single file (through its parent directory).
  // The root's parent is watched too, so a root deleted and re-created keeps working;
  // the parent itself must stay. Reports nothing for what already exists.
  // Throws qb::Error when `path` is missing or unreadable, and on ENOSPC with the
  // fs.inotify.max_user_watches value needed as hint.
  void add_root(std::string id, const fs::path& path);

  // Blocks until a batch is ready, `stop_fd` (-1: none) is readable, or `deadline`
  // passes; nullopt on stop or timeout. Pending changes are kept for the next call.
  // Never consumes `stop_fd`. Throws qb::Error on read errors and on ENOSPC while
  // following new directories.
  std::optional<Batch> next(int stop_fd = -1, std::optional<Clock::time_point> deadline = {});

  // For callers polling several fds: poll fd() for POLLIN, then call
  // next(-1, Clock::now()); pending_until() says when a pending batch becomes due.
  int fd() const;
  std::optional<Clock::time_point> pending_until() const;

  // The absolute path a change refers to.
  fs::path absolute(const Change& change) const;

  std::size_t watch_count() const;  // inotify watches held, root parents included

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace qb::watch
