#pragma once
// Just enough ELF to tell the architecture of a vmlinux and whether it carries the
// Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY, type 18) that lets QEMU boot it directly.
#include <optional>
#include <string>
#include <string_view>

namespace qb::kernel {

struct ElfInfo {
  std::string arch;     // x86_64, i686, or the e_machine number for others
  bool pvh_note = false;
};

// nullopt when `data` is not a well-formed ELF file. Never throws.
std::optional<ElfInfo> inspect_elf(std::string_view data);

} // namespace qb::kernel
