#include <elf.h>

#include <cstring>

#include <catch2/catch.hpp>

#include "kernel/elf.hpp"

using namespace qb::kernel;

namespace {

// A minimal ELF64 with one PT_NOTE segment holding one note.
std::string elf64(std::uint16_t machine, std::uint32_t note_type) {
  std::string note;
  Elf64_Nhdr n{4, 4, note_type};
  note.append(reinterpret_cast<const char*>(&n), sizeof n);
  note.append("Xen\0", 4);
  note.append("\0\0\0\x01", 4);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_machine = machine;
  eh.e_phoff = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  Elf64_Phdr ph{};
  ph.p_type = PT_NOTE;
  ph.p_offset = sizeof eh + sizeof ph;
  ph.p_filesz = note.size();
  std::string out(reinterpret_cast<const char*>(&eh), sizeof eh);
  out.append(reinterpret_cast<const char*>(&ph), sizeof ph);
  return out + note;
}

} // namespace

TEST_CASE("inspect_elf: architecture and the PVH note") {
  auto a = inspect_elf(elf64(EM_X86_64, 18));
  REQUIRE(a);
  CHECK(a->arch == "x86_64");
  CHECK(a->pvh_note);
  auto b = inspect_elf(elf64(EM_X86_64, 17));
  REQUIRE(b);
  CHECK_FALSE(b->pvh_note);
  CHECK(inspect_elf(elf64(EM_386, 18))->arch == "i686");
}

TEST_CASE("inspect_elf: not an ELF, or truncated headers") {
  CHECK_FALSE(inspect_elf("hello world, not an elf file at all, really"));
  auto e = elf64(EM_X86_64, 18);
  CHECK_FALSE(inspect_elf(e.substr(0, sizeof(Elf64_Ehdr) + 8)));  // program header cut
  CHECK_FALSE(inspect_elf(e.substr(0, 10)));
}
