#include "watch/limits.hpp"

#include <fstream>

#include <fmt/format.h>

namespace qb::watch {

namespace {

std::optional<std::size_t> read_number(const char* path) {
  std::ifstream in(path);
  std::size_t v = 0;
  if (in >> v) return v;
  return std::nullopt;
}

std::string value_or_unknown(std::optional<std::size_t> v) {
  return v ? std::to_string(*v) : std::string("unknown");
}

// The limit in effect: the lower of the global and the user-namespace value.
std::optional<std::size_t> effective(std::optional<std::size_t> global,
                                     std::optional<std::size_t> userns) {
  if (global && userns) return std::min(*global, *userns);
  return global ? global : userns;
}

} // namespace

WatchLimits read_watch_limits() {
  return {read_number("/proc/sys/fs/inotify/max_user_watches"),
          read_number("/proc/sys/fs/inotify/max_user_instances"),
          read_number("/proc/sys/user/max_inotify_watches"),
          read_number("/proc/sys/user/max_inotify_instances")};
}

std::size_t suggested_watch_limit(std::optional<std::size_t> current, std::size_t needed) {
  std::size_t want = current.value_or(8192) + needed;
  return (want + 1023) / 1024 * 1024;
}

Error watch_limit_error(const std::filesystem::path& dir, std::size_t needed,
                        const WatchLimits& limits) {
  auto limit = effective(limits.max_user_watches, limits.userns_watches);
  std::string what = fmt::format(
      "cannot watch {}: out of inotify watches (fs.inotify.max_user_watches = {}); "
      "watching these trees needs {} directories",
      dir.string(), value_or_unknown(limits.max_user_watches), needed);
  if (limits.userns_watches && limits.max_user_watches &&
      *limits.userns_watches < *limits.max_user_watches)
    what += fmt::format(", and this user namespace allows {} (user.max_inotify_watches)",
                        *limits.userns_watches);
  std::string hint = fmt::format(
      "raise the limit (other programs of this user hold watches too): "
      "sudo sysctl fs.inotify.max_user_watches={}; "
      "to keep it, add that setting to /etc/sysctl.d/90-quickboot.conf",
      suggested_watch_limit(limit, needed));
  return Error(std::move(what), std::move(hint));
}

Error instance_limit_error(const WatchLimits& limits, bool fds_exhausted) {
  if (fds_exhausted)
    return Error("cannot create an inotify instance: this process is out of file descriptors",
                 "raise the descriptor limit, e.g. ulimit -n 4096");
  auto limit = effective(limits.max_user_instances, limits.userns_instances);
  return Error(
      fmt::format("cannot create an inotify instance: out of inotify instances "
                  "(fs.inotify.max_user_instances = {})",
                  value_or_unknown(limits.max_user_instances)),
      fmt::format("close other programs that watch files, or raise the limit: "
                  "sudo sysctl fs.inotify.max_user_instances={}",
                  limit ? *limit * 2 : 256));
}

} // namespace qb::watch
