#pragma once
// The messages for running out of inotify resources, kept apart so tests can check
// them without exhausting a real limit.
#include <cstddef>
#include <filesystem>
#include <optional>

#include "core/error.hpp"

namespace qb::watch {

struct WatchLimits {
  std::optional<std::size_t> max_user_watches;    // /proc/sys/fs/inotify/max_user_watches
  std::optional<std::size_t> max_user_instances;  // /proc/sys/fs/inotify/max_user_instances
  // Same limits for the current user namespace (/proc/sys/user/max_inotify_*); in a
  // container these can be lower than the fs.inotify values.
  std::optional<std::size_t> userns_watches;
  std::optional<std::size_t> userns_instances;
};

// Reads the current values; a missing file leaves its field empty. Never throws.
WatchLimits read_watch_limits();

// The value to suggest: room for `needed` on top of what other programs may hold
// under the current limit, rounded up to a multiple of 1024.
std::size_t suggested_watch_limit(std::optional<std::size_t> current, std::size_t needed);

// inotify_add_watch failed with ENOSPC on `dir`, `needed` directories being required.
Error watch_limit_error(const std::filesystem::path& dir, std::size_t needed,
                        const WatchLimits& limits);

// inotify_init1 failed with EMFILE; `fds_exhausted` when the process itself is out of
// file descriptors rather than of inotify instances.
Error instance_limit_error(const WatchLimits& limits, bool fds_exhausted);

} // namespace qb::watch
