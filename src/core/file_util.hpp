#pragma once
// Small file helpers. All throw qb::Error naming the path on failure.
#include <filesystem>
#include <string>
#include <string_view>

namespace qb {

namespace fs = std::filesystem;

// The whole of a regular file (read_regular_file without a size limit): a FIFO, a
// directory or a device in its place is an Error, never a wait.
std::string read_file(const fs::path& path);

// Reads a file that must be a regular file of at most `max_bytes`. Opened non-blocking,
// so a FIFO put in its place cannot hang us, and checked with fstat before reading.
// Throws Error naming the path and what it is instead.
std::string read_regular_file(const fs::path& path, std::size_t max_bytes);

// "a FIFO", "a directory", ... for a stat mode: error messages about non-regular files.
std::string_view file_type_name(unsigned mode);

// Writes atomically: a temp file in the same directory, fsync'd (unless not `durable`),
// then renamed over `path`. An interrupted write leaves the previous content of `path`
// in place. Not durable is for caches that check what they read back: after a power
// loss the file may be empty or short.
void write_file_atomic(const fs::path& path, std::string_view data, unsigned mode = 0644, bool durable = true);

// A fresh directory under `parent` (created if needed) named PREFIX.XXXXXX. Scratch:
// a SIGINT/SIGTERM/SIGHUP removes it (core/signals.hpp) unless remove_all_quiet
// already did, or keep_temp_dir says it is meant to outlive the process.
fs::path make_temp_dir(const fs::path& parent, std::string_view prefix);
void keep_temp_dir(const fs::path& path);

// Removes the directories in `parent` named PREFIX<pid>.* (make_temp_dir(parent,
// PREFIX + pid)) whose process is gone: what a SIGKILLed run left. Errors are ignored.
void sweep_orphaned_dirs(const fs::path& parent, std::string_view prefix) noexcept;

// Throws an Error naming `what` when `path` does not exist.
void require_exists(const fs::path& path, std::string_view what, std::string hint = {});

// A cheap identity for a large input (cache keys): path, device, inode, size, mtime in
// nanoseconds. Throws an Error naming the path when it cannot be stat'ed.
std::string file_identity(const fs::path& path);

// 0600 when `like` is not readable by others (or cannot be stat'ed), else 0644: the
// mode for a copy of it or a file built from it, so private content stays private.
unsigned copy_mode(const fs::path& like);

// Removes a tree, ignoring errors; for cleanup paths only.
void remove_all_quiet(const fs::path& path) noexcept;

} // namespace qb
