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

// mkinitcpio's add_module also adds the firmware each module names (modinfo's
// firmware=), from the system's /usr/lib/firmware{/updates,}, compressed or not. Adds
// what exists to `image` (paths and sources to `out`); returns the modules none of
// whose firmware exists, for one warning.
std::vector<std::string> add_module_firmware(const std::vector<ModuleFile>& modules, const InstallEnv& env,
                                             ModuleTree& tree, CpioArchive& image, ApplyOutput& out);

// Adds the tree a hook wrote under `staging` ($BUILDROOT or $EARLYROOT) to `image`:
// directories, files with their modes, symlinks as they are.
void pack_staging_dir(const fs::path& staging, CpioArchive& image, std::vector<std::string>& paths);

} // namespace qb::initramfs
