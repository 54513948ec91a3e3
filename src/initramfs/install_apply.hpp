#pragma once
// Carries out what install hooks asked for (hooks.hpp's InstallRequests) as mkinitcpio's
// functions would: files, binaries with their libraries, symlinks, whole directories,
// udev rules, firmware and module patterns, every source path read inside the system
// the image is built from (sysroot.hpp).
#include <string>
#include <vector>

#include "initramfs/cpio_archive.hpp"
#include "initramfs/hooks.hpp"
#include "initramfs/module_closure.hpp"

namespace qb::initramfs {

struct ApplyOutput {
  std::vector<std::string> modules;  // add_all_modules / add_checked_modules matches
  std::vector<std::string> paths;    // every image path written (to spot modprobe.d and firmware)
  std::vector<fs::path> sources;     // every host file read, for the cache to check on a hit
};

// Throws Error naming the hook and the missing or bad path.
ApplyOutput apply_install_actions(const std::vector<InstallAction>& actions, const InstallEnv& env,
                                  ModuleTree& modules, CpioArchive& image, CpioArchive& early);

// Adds the tree a hook wrote under `staging` ($BUILDROOT or $EARLYROOT) to `image`:
// directories, files with their modes, symlinks as they are.
void pack_staging_dir(const fs::path& staging, CpioArchive& image, std::vector<std::string>& paths);

} // namespace qb::initramfs
