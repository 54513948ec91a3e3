#pragma once
// Finding runtime hooks (hooks/NAME) and install hooks (install/NAME) in the hook
// directories, and running install hooks' build() to learn what they add.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace qb::initramfs {

namespace fs = std::filesystem;

// A directory holding hooks/ and install/ (mkinitcpio's layout), e.g. /usr/lib/initcpio.
// A --hooks DIR that has no hooks/ subdirectory is taken as the runtime hooks folder itself.
struct HookDir {
  fs::path runtime;  // where runtime hooks live
  fs::path install;  // where install hooks live
};

HookDir hook_dir_from_user(const fs::path& dir);  // throws Error when missing

struct ResolvedHook {
  std::string name;
  std::optional<fs::path> runtime;  // hooks/NAME
  std::optional<fs::path> install;  // install/NAME
};

// Looks each name up in `dirs` in order (first match wins, per file kind). Throws Error
// for a name found nowhere, listing where it looked.
std::vector<ResolvedHook> resolve_hooks(const std::vector<std::string>& names, const std::vector<HookDir>& dirs);

// What install hooks' build() asked for.
struct InstallRequests {
  std::vector<std::string> modules;
  struct File { fs::path source; std::string dest; unsigned mode; };
  std::vector<File> files;                      // add_file, add_runscript, add_binary
  std::vector<std::pair<std::string, unsigned>> dirs;
  std::vector<std::pair<std::string, std::string>> symlinks;  // path -> target
  std::vector<std::pair<std::string, std::string>> binaries;  // source -> dest
  std::vector<std::string> runscripts;          // hook names whose runtime script to add
  std::vector<std::string> warnings;
};

// Runs every install hook's build() in one bash process with mkinitcpio's add_*
// functions defined as recorders, and syntax-checks every runtime hook with busybox sh
// -n. `sysroot` is where add_file/add_binary paths are read ("/" or a rootfs).
// Throws Error naming the hook on a syntax error or a failing build().
InstallRequests run_install_hooks(const std::vector<ResolvedHook>& hooks, const fs::path& sysroot,
                                  const fs::path& busybox);

} // namespace qb::initramfs
