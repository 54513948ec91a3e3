#include "kernel/source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/file_util.hpp"
#include "kernel/bzimage.hpp"

namespace qb::kernel {

namespace {

constexpr const char* accepted_hint =
    "give a kernel package (.deb, Arch .pkg.tar.zst/.xz), an ISO image, a rootfs directory, "
    "or a bzImage with --modules";

std::string read_head(const std::filesystem::path& path, std::size_t n) {
  // Non-blocking: a FIFO given as the source must be an error, not a wait for a writer.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) throw Error::from_errno("cannot open", path);
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) throw Error::from_errno("cannot stat", path);
  if (!S_ISREG(st.st_mode))
    throw Error(fmt::format("{} is {}: not a kernel", path.string(), file_type_name(st.st_mode)), accepted_hint);
  std::string buf(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd.get(), buf.data() + got, n - got, static_cast<off_t>(got));
    if (r < 0) throw Error::from_errno("cannot read", path);
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  buf.resize(got);
  return buf;
}

} // namespace

std::string_view source_kind_name(SourceKind k) {
  switch (k) {
  case SourceKind::directory: return "directory";
  case SourceKind::deb: return "deb";
  case SourceKind::tarball: return "package";
  case SourceKind::iso: return "iso";
  case SourceKind::bzimage: return "bzimage";
  }
  return "?";
}

SourceKind detect_source(const std::filesystem::path& path) {
  require_exists(path, "kernel source", "check the path; `quickboot kernel add --help` lists the accepted sources");
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return SourceKind::directory;
  std::string h = read_head(path, 0x8010);
  auto at = [&](std::size_t off, std::string_view m) { return h.size() >= off + m.size() && h.compare(off, m.size(), m) == 0; };
  if (at(0, "!<arch>\n")) return SourceKind::deb;
  if (at(0x8001, "CD001")) return SourceKind::iso;
  if (has_boot_header(h)) return SourceKind::bzimage;
  if (at(257, "ustar")) return SourceKind::tarball;
  switch (detect_compression(h)) {
  case Compression::gzip:
  case Compression::xz:
  case Compression::zstd:
  case Compression::bzip2: return SourceKind::tarball;
  case Compression::none:
    throw Error(fmt::format("{} is an ELF file, not a bootable kernel image", path.string()),
                "give the bzImage (arch/x86/boot/bzImage or /boot/vmlinuz-*); quickboot extracts the vmlinux itself");
  default: break;
  }
  if (at(0, "hsqs"))
    throw Error(fmt::format("{} is a squashfs image, not a kernel", path.string()),
                "give the ISO or package holding the kernel, and this image's modules as a directory with --modules");
  if (h.empty()) throw Error(fmt::format("{} is empty: not a kernel", path.string()), accepted_hint);
  throw Error(fmt::format("{} is not a kernel: not a bzImage, package, ISO or directory", path.string()), accepted_hint);
}

} // namespace qb::kernel
