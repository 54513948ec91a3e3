#pragma once
// Finding runtime hooks (hooks/NAME) and install hooks (install/NAME) in the hook
// directories, and running install hooks' build() to learn what they add.
#include <chrono>
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

// One call of mkinitcpio's build-time API made by an install hook's build(), in call
// order (a later call wins over an earlier one for the same path).
struct InstallAction {
  std::string hook;                // the hook that made the call
  std::string kind;                // file, dir, symlink, binary, fulldir, firmware, udev, early, allmods, checkedmods
  std::vector<std::string> args;   // as the hook passed them (empty strings for left-out ones)
  std::string at;                  // FILE:LINE of the call in the hook file, when known
};

// What install hooks' build() asked for.
struct InstallRequests {
  std::vector<std::string> modules;             // add_module names (`name?` kept: optional)
  std::vector<InstallAction> actions;
  std::vector<std::string> runscripts;          // hook names whose runtime script to add
};

// Where the hooks run: the system their files come from, and mkinitcpio's variables.
struct InstallEnv {
  fs::path sysroot;      // "/" or a rootfs: add_file/add_binary paths are read there
  fs::path buildroot;    // $BUILDROOT: an empty staging directory; what hooks write there is packed
  fs::path earlyroot;    // $EARLYROOT, for the early (uncompressed) archive
  std::string kernel_release;  // $KERNELVERSION
  fs::path modules_dir;        // the kernel's lib/modules/<release>
  fs::path module_root;        // modprobe -d: its lib/modules/<release> is modules_dir
  // All install hooks together may take this long; then the build stops, naming the
  // hook that was running (a loop, a command waiting for input).
  std::chrono::seconds hook_timeout{300};
  // Set: the `autodetect` hook caches these modules (the guest's devices) instead of
  // running its build(), which would read the host's /sys.
  std::optional<std::vector<std::string>> guest_autodetect;
};

// Runs every install hook's build() in one bash process with mkinitcpio's build
// environment (our own implementation of its documented functions and variables) and
// syntax-checks every runtime hook with busybox sh -n. Install hooks are code run on
// the host with quickboot's privileges.
// Throws Error naming the hook file on a syntax error (bash's message has the line), a
// hook without build(), a build() that called `error` or whose add_* call failed, and
// hooks still running after env.hook_timeout.
InstallRequests run_install_hooks(const std::vector<ResolvedHook>& hooks, const InstallEnv& env,
                                  const fs::path& busybox);

} // namespace qb::initramfs
