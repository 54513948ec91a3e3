#include "kernel/elf.hpp"

#include <elf.h>

#include <cstring>

namespace qb::kernel {

namespace {

constexpr std::uint32_t xen_elfnote_phys32_entry = 18;

template <typename T> bool load(std::string_view d, std::uint64_t off, T& out) {
  if (off > d.size() || sizeof(T) > d.size() - off) return false;
  std::memcpy(&out, d.data() + off, sizeof(T));
  return true;
}

// Walks the notes in [off, off+size) looking for name "Xen", type 18.
bool has_pvh_note(std::string_view d, std::uint64_t off, std::uint64_t size) {
  if (off > d.size() || size > d.size() - off) return false;
  auto align4 = [](std::uint64_t v) { return (v + 3) & ~std::uint64_t{3}; };
  std::uint64_t p = off, end = off + size;
  while (p + sizeof(Elf32_Nhdr) <= end) {
    Elf32_Nhdr n{};  // Elf64_Nhdr has the same layout
    load(d, p, n);
    std::uint64_t name = p + sizeof n, desc = name + align4(n.n_namesz);
    if (desc > end) break;
    if (n.n_type == xen_elfnote_phys32_entry && n.n_namesz == 4 && d.substr(name, 4) == std::string_view("Xen\0", 4))
      return true;
    p = desc + align4(n.n_descsz);
  }
  return false;
}

template <typename Ehdr, typename Phdr, typename Shdr> std::optional<ElfInfo> inspect(std::string_view d) {
  Ehdr eh{};
  if (!load(d, 0, eh)) return std::nullopt;
  ElfInfo info;
  switch (eh.e_machine) {
  case EM_X86_64: info.arch = "x86_64"; break;
  case EM_386: info.arch = "i686"; break;
  default: info.arch = "machine-" + std::to_string(eh.e_machine);
  }
  for (unsigned i = 0; i < eh.e_phnum && !info.pvh_note; ++i) {
    Phdr ph{};
    if (!load(d, eh.e_phoff + std::uint64_t{i} * eh.e_phentsize, ph)) return std::nullopt;
    if (ph.p_type == PT_NOTE) info.pvh_note = has_pvh_note(d, ph.p_offset, ph.p_filesz);
  }
  // Some kernels keep .note.Xen out of the PT_NOTE segment: check the sections too.
  for (unsigned i = 0; i < eh.e_shnum && !info.pvh_note; ++i) {
    Shdr sh{};
    if (!load(d, eh.e_shoff + std::uint64_t{i} * eh.e_shentsize, sh)) break;
    if (sh.sh_type == SHT_NOTE) info.pvh_note = has_pvh_note(d, sh.sh_offset, sh.sh_size);
  }
  return info;
}

} // namespace

std::optional<ElfInfo> inspect_elf(std::string_view d) {
  if (d.size() < EI_NIDENT || d.substr(0, 4) != "\x7f" "ELF" || d[EI_DATA] != ELFDATA2LSB) return std::nullopt;
  if (d[EI_CLASS] == ELFCLASS64) return inspect<Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr>(d);
  if (d[EI_CLASS] == ELFCLASS32) return inspect<Elf32_Ehdr, Elf32_Phdr, Elf32_Shdr>(d);
  return std::nullopt;
}

} // namespace qb::kernel
