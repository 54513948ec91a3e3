#include "initramfs/elf_deps.hpp"

#include <elf.h>

#include <cstring>
#include <set>
#include <span>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "initramfs/sysroot.hpp"

namespace qb::initramfs {

namespace fs = std::filesystem;

namespace {

struct ElfInfo {
  std::string interp;
  std::vector<std::string> needed;
  std::vector<std::string> runpath;  // DT_RUNPATH, or DT_RPATH when there is none
  bool is64 = true;
};

template <typename Ehdr, typename Phdr, typename Dyn>
ElfInfo parse(const std::string& d, const fs::path& path) {
  ElfInfo info;
  auto bad = [&] { return Error(fmt::format("{} is a truncated or corrupt ELF file", path.string())); };
  if (d.size() < sizeof(Ehdr)) throw bad();
  Ehdr eh;
  std::memcpy(&eh, d.data(), sizeof eh);
  std::vector<Phdr> ph(eh.e_phnum);
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    std::size_t off = eh.e_phoff + i * sizeof(Phdr);
    if (off + sizeof(Phdr) > d.size()) throw bad();
    std::memcpy(&ph[i], d.data() + off, sizeof(Phdr));
  }
  auto vaddr_to_off = [&](std::uint64_t va) -> std::uint64_t {
    for (const auto& p : ph)
      if (p.p_type == PT_LOAD && va >= p.p_vaddr && va < p.p_vaddr + p.p_filesz) return va - p.p_vaddr + p.p_offset;
    throw bad();
  };
  const Phdr* dyn = nullptr;
  for (const auto& p : ph) {
    if (p.p_type == PT_INTERP && p.p_offset + p.p_filesz <= d.size())
      info.interp = std::string(d.data() + p.p_offset, strnlen(d.data() + p.p_offset, p.p_filesz));
    if (p.p_type == PT_DYNAMIC) dyn = &p;
  }
  if (!dyn) return info;
  std::uint64_t strtab = 0;
  std::vector<std::uint64_t> needed;
  std::int64_t runpath = -1, rpath = -1;
  for (std::size_t off = dyn->p_offset; off + sizeof(Dyn) <= dyn->p_offset + dyn->p_filesz && off + sizeof(Dyn) <= d.size();
       off += sizeof(Dyn)) {
    Dyn e;
    std::memcpy(&e, d.data() + off, sizeof e);
    if (e.d_tag == DT_NULL) break;
    if (e.d_tag == DT_STRTAB) strtab = e.d_un.d_ptr;
    if (e.d_tag == DT_NEEDED) needed.push_back(e.d_un.d_val);
    if (e.d_tag == DT_RUNPATH) runpath = static_cast<std::int64_t>(e.d_un.d_val);
    if (e.d_tag == DT_RPATH) rpath = static_cast<std::int64_t>(e.d_un.d_val);
  }
  if (needed.empty()) return info;
  std::uint64_t base = vaddr_to_off(strtab);
  for (auto n : needed) {
    if (base + n >= d.size()) throw bad();
    info.needed.emplace_back(d.data() + base + n);
  }
  if (std::int64_t rp = runpath >= 0 ? runpath : rpath; rp >= 0 && base + rp < d.size()) {
    std::string list(d.data() + base + rp);
    for (std::size_t i = 0; i <= list.size();) {
      auto j = list.find(':', i);
      if (j == std::string::npos) j = list.size();
      if (j > i) info.runpath.emplace_back(list, i, j - i);
      i = j + 1;
    }
  }
  return info;
}

ElfInfo read_elf(const fs::path& path) {
  std::string d = read_file(path);
  if (d.size() < EI_NIDENT || std::memcmp(d.data(), ELFMAG, SELFMAG) != 0) return {};  // a script
  if (d[EI_CLASS] == ELFCLASS64) return parse<Elf64_Ehdr, Elf64_Phdr, Elf64_Dyn>(d, path);
  auto info = parse<Elf32_Ehdr, Elf32_Phdr, Elf32_Dyn>(d, path);
  info.is64 = false;
  return info;
}

} // namespace

std::vector<ElfDependency> elf_library_closure(const fs::path& sysroot, const std::string& guest_binary) {
  static const char* const dirs64[] = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/usr/lib", "/lib64",
                                       "/usr/lib64", "/lib"};
  static const char* const dirs32[] = {"/lib/i386-linux-gnu", "/usr/lib/i386-linux-gnu", "/usr/lib32", "/usr/lib",
                                       "/lib"};
  std::vector<ElfDependency> out;
  std::set<std::string> seen;
  std::vector<std::pair<std::string, fs::path>> todo = {{guest_binary, path_in_root(sysroot, guest_binary)}};
  bool first = true;
  while (!todo.empty()) {
    auto [guest, host] = todo.back();
    todo.pop_back();
    ElfInfo info = read_elf(host);
    if (!first) out.push_back({guest, host});
    first = false;
    if (!info.interp.empty() && seen.insert(info.interp).second)
      todo.emplace_back(info.interp, path_in_root(sysroot, info.interp));
    for (const auto& lib : info.needed) {
      if (!seen.insert(lib).second) continue;
      bool found = false;
      // RUNPATH first ($ORIGIN is the object's own directory), then the system's.
      std::vector<std::string> search;
      for (std::string rp : info.runpath) {
        for (const char* o : {"$ORIGIN", "${ORIGIN}"})
          if (auto at = rp.find(o); at != std::string::npos) rp.replace(at, std::strlen(o), fs::path(guest).parent_path().string());
        if (!rp.empty() && rp.front() == '/') search.push_back(rp);
      }
      for (const char* dir : info.is64 ? std::span<const char* const>(dirs64) : std::span<const char* const>(dirs32))
        search.emplace_back(dir);
      for (const auto& dir : search) {
        std::string g = dir + "/" + lib;
        fs::path h = path_in_root(sysroot, g);
        std::error_code ec;
        if (fs::is_regular_file(h, ec)) {
          todo.emplace_back(g, h);
          found = true;
          break;
        }
      }
      if (!found)
        throw Error(fmt::format("{} needs {}, which is in none of the library directories under {}", guest_binary, lib,
                                sysroot.string()),
                    "install the library in that root, or add it with add_file");
    }
  }
  return out;
}

} // namespace qb::initramfs
