#pragma once
// The binary module indexes libkmod reads (kmod's modprobe, udev, systemd): modules.dep
// and modules.dep.bin, modules.alias(.bin), modules.symbols(.bin), modules.builtin.bin,
// modules.builtin.alias.bin, modules.softdep, modules.devname. Packages ship none of
// them; kmod's own depmod writes them into the store entry's modules tree, at
// `kernel add` time, or once for an entry added by an older quickboot.
#include <filesystem>
#include <string>

namespace qb::kernel {

namespace fs = std::filesystem;

// True when `modules_dir` holds a complete set (modules.dep.bin is installed last).
bool has_module_indexes(const fs::path& modules_dir);

// Runs depmod over `modules_dir` (a lib/modules/<release> tree) in a scratch directory
// beside it, then renames each index into `modules_dir`, modules.dep.bin last, so a
// reader sees either no indexes or all of them. The host's /etc/depmod.d is not read.
// A tree without kernel/ (a kernel with everything built in) gets empty indexes.
// Throws Error when depmod is missing (hint: install kmod) or fails.
void write_module_indexes(const fs::path& modules_dir, const std::string& release);

} // namespace qb::kernel
