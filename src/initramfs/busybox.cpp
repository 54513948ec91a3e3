#include "initramfs/busybox.hpp"

#include <elf.h>

#include <cstdlib>
#include <cstring>
#include <sstream>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "core/paths.hpp"
#include "core/log.hpp"
#include "core/process.hpp"

namespace qb::initramfs {

namespace fs = std::filesystem;

namespace {

fs::path fetch_script() { return data_dir() / "kernels/busybox.sh"; }


// Checks the ELF header: class for the architecture, and no PT_INTERP (static).
void check_static_elf(const fs::path& path, const std::string& arch) {
  std::string data = read_file(path);
  auto fail = [&](const std::string& what, const std::string& hint) {
    throw Error(fmt::format("busybox {} {}", path.string(), what), hint);
  };
  if (data.size() < sizeof(Elf32_Ehdr) || std::memcmp(data.data(), ELFMAG, SELFMAG) != 0)
    fail("is not an ELF executable", "install busybox-static");
  bool is64 = data[EI_CLASS] == ELFCLASS64;
  if (is64 != (arch == "x86_64"))
    fail(fmt::format("is {}-bit, but the kernel is {}", is64 ? 64 : 32, arch),
         arch == "i686" ? busybox_hint(arch) + " or set QUICKBOOT_BUSYBOX_I686" : "install busybox-static");
  auto has_interp = [&](auto* ehdr, auto* phdr_type) {
    using Phdr = std::remove_pointer_t<decltype(phdr_type)>;
    for (unsigned i = 0; i < ehdr->e_phnum; ++i) {
      std::size_t off = ehdr->e_phoff + i * sizeof(Phdr);
      if (off + sizeof(Phdr) > data.size()) fail("has a truncated ELF header", "reinstall busybox-static");
      Phdr ph;
      std::memcpy(&ph, data.data() + off, sizeof ph);
      if (ph.p_type == PT_INTERP) return true;
    }
    return false;
  };
  bool dynamic = is64 ? has_interp(reinterpret_cast<const Elf64_Ehdr*>(data.data()), static_cast<Elf64_Phdr*>(nullptr))
                      : has_interp(reinterpret_cast<const Elf32_Ehdr*>(data.data()), static_cast<Elf32_Phdr*>(nullptr));
  if (dynamic)
    fail("is dynamically linked; the initramfs has no C library for it",
         "install busybox-static (apt-get install busybox-static), not busybox");
}

} // namespace

std::string busybox_hint(const std::string& arch) {
  if (arch != "i686") return "apt-get install busybox-static";
  return fmt::format("run {} i386 (quickboot export --kernel does it for you)", fetch_script().string());
}

fs::path busybox_path(const std::string& arch) {
  const char* env = std::getenv(arch == "i686" ? "QUICKBOOT_BUSYBOX_I686" : "QUICKBOOT_BUSYBOX_X86_64");
  if (env && *env) return env;
  if (arch == "i686") return downloads_dir() / "busybox-i386" / "busybox";
  return "/bin/busybox";
}

Busybox find_busybox(const std::string& arch) {
  fs::path path = busybox_path(arch);
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw Error(fmt::format("no static busybox for {} at {}", arch, path.string()),
                busybox_hint(arch));
  check_static_elf(path, arch);
  Busybox bb{path, {}};
  // The applet list from the binary itself; a 32-bit static busybox runs on x86_64 hosts.
  auto r = run_capture({path.string(), "--list"});
  std::istringstream in(r.out);
  for (std::string a; std::getline(in, a);)
    if (!a.empty() && a != "busybox") bb.applets.push_back(a);
  if (bb.applets.empty())
    throw Error(fmt::format("busybox {} lists no applets", path.string()), "install busybox-static");
  return bb;
}

Busybox find_or_fetch_busybox(const std::string& arch) {
  std::error_code ec;
  const char* env = std::getenv("QUICKBOOT_BUSYBOX_I686");
  if (arch == "i686" && !(env && *env) && !fs::exists(busybox_path(arch), ec)) {
    log::notice("fetching a static busybox for i686 (Debian's busybox-static:i386, apt-get download) into {} ...",
                busybox_path(arch).parent_path().string());
    fs::create_directories(downloads_dir());
    auto r = run_capture({"env", "QUICKBOOT_DOWNLOADS=" + downloads_dir().string(), fetch_script().string(), "i386"});
    if (r.exit_code != 0)
      throw Error(fmt::format("could not fetch busybox-static:i386 with {} (exit {}): {}", fetch_script().string(),
                              r.exit_code, r.err.substr(r.err.size() > 600 ? r.err.size() - 600 : 0)),
                  "apt-get download needs the i386 architecture (dpkg --add-architecture i386; apt-get update); "
                  "or set QUICKBOOT_BUSYBOX_I686 to a static i686 busybox");
  }
  return find_busybox(arch);
}

} // namespace qb::initramfs
