#pragma once
// Deciding when a project's rootfs command must run again: a stamp file records the
// command that last succeeded; any input matching the globs that is newer than the stamp
// (or a changed command, or a missing rootfs) makes the rootfs stale.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace qb::project {

namespace fs = std::filesystem;

// Files under `root` matching any glob (relative to root). `*`, `?` and `[...]` stay
// within one path component; `**` matches any number of components. A plain path names
// a file, or every file below a directory. Never throws; unreadable parts are skipped.
std::vector<fs::path> expand_globs(const fs::path& root, const std::vector<std::string>& globs);

// Why the rootfs must be rebuilt, or nullopt when it is up to date.
std::optional<std::string> rootfs_stale(const fs::path& root, const fs::path& rootfs, const std::string& command,
                                        const std::vector<std::string>& inputs, const fs::path& stamp);

// Records a successful run of `command` that started at `started`: the stamp gets that
// time, so an input edited while the command ran still counts as newer. Throws Error.
void write_stamp(const fs::path& stamp, const std::string& command, fs::file_time_type started);

} // namespace qb::project
