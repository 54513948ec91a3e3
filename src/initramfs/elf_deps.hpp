#pragma once
// The shared-library closure of an ELF executable, for mkinitcpio's add_binary: its
// interpreter and every DT_NEEDED library, found under a sysroot's library directories.
#include <filesystem>
#include <string>
#include <vector>

namespace qb::initramfs {

struct ElfDependency {
  std::string guest_path;               // absolute path inside the sysroot, e.g. /lib64/ld-linux-x86-64.so.2
  std::filesystem::path host_path;      // sysroot / guest_path, symlinks resolved inside the sysroot
};

// Empty for a static binary or a script. Throws Error naming the binary and the
// library when a DT_NEEDED entry is found nowhere under `sysroot`.
std::vector<ElfDependency> elf_library_closure(const std::filesystem::path& sysroot, const std::string& guest_binary);

} // namespace qb::initramfs
