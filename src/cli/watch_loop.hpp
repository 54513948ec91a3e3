#pragma once
// The edit-and-boot loop behind `quickboot watch`: one guest, one inotify watcher, and
// for each batch of changes the cheapest action that makes them real.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli/global_options.hpp"
#include "cli/guest_session.hpp"

namespace qb::cli {

struct WatchOptions {
  BootOptions boot;
  std::optional<std::string> export_dir;
  int zstd_level = 0;
  std::optional<std::string> run;   // shell command run in the guest on each cycle
  bool headless = false;            // console to a log file instead of stdout
  bool no_guest = false;            // watch and export only
  // quickboot's own configuration (`up -w`): a change ends the loop with kRestartLoop
  // so the caller reloads it and starts again.
  std::vector<std::filesystem::path> config_files;
};

inline constexpr int kRestartLoop = -1;

// Runs until SIGINT/SIGTERM; returns the exit code (130 when interrupted), or
// kRestartLoop when one of `config_files` changed.
int watch_loop(const WatchOptions& o, GlobalOptions& g);

} // namespace qb::cli
