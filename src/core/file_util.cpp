#include "core/file_util.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

#include <fmt/format.h>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/signals.hpp"

namespace qb {

std::string read_file(const fs::path& path) { return read_regular_file(path, SIZE_MAX); }

std::string_view file_type_name(unsigned mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO";
    case S_IFSOCK: return "a socket";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFLNK: return "a symbolic link";
    default: return "not a regular file";
  }
}

std::string read_regular_file(const fs::path& path, std::size_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) throw Error::from_errno("cannot open", path);
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) throw Error::from_errno("cannot stat", path);
  if (!S_ISREG(st.st_mode))
    throw Error(fmt::format("{} is {}, not a regular file", path.string(), file_type_name(st.st_mode)),
                "replace it with a regular file (or remove it)");
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
    throw Error(fmt::format("{} is too large ({} bytes; at most {} expected)", path.string(), st.st_size, max_bytes),
                "is this the right file?");
  std::string out;
  out.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error::from_errno("cannot read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    // It grew while we read: the limit still holds.
    if (out.size() > max_bytes)
      throw Error(fmt::format("{} is too large (more than {} bytes)", path.string(), max_bytes), "is this the right file?");
  }
  return out;
}

void write_file_atomic(const fs::path& path, std::string_view data, unsigned mode, bool durable) {
  AtomicFile f(path, mode);
  f.write(data);
  f.commit(durable);
}

fs::path make_temp_dir(const fs::path& parent, std::string_view prefix) {
  std::error_code ec;
  fs::create_directories(parent, ec);
  std::string tmpl = (parent / (std::string(prefix) + ".XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) throw Error::from_errno("cannot create a directory in", parent);
  register_scratch(tmpl);
  return tmpl;
}

void sweep_orphaned_dirs(const fs::path& parent, std::string_view prefix) noexcept {
  std::error_code ec;
  for (const auto& d : fs::directory_iterator(parent, ec)) {
    const std::string name = d.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    char* end = nullptr;
    long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
    if (pid <= 0 || *end != '.') continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) remove_all_quiet(d.path());
  }
}

void require_exists(const fs::path& path, std::string_view what, std::string hint) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec)))
    throw Error(std::string(what) + " " + path.string() + " does not exist", std::move(hint));
}

unsigned copy_mode(const fs::path& like) {
  struct stat st{};
  return ::stat(like.c_str(), &st) == 0 && (st.st_mode & S_IROTH) ? 0644 : 0600;
}

void keep_temp_dir(const fs::path& path) { forget_scratch(path); }

void remove_all_quiet(const fs::path& path) noexcept {
  std::error_code ec;
  fs::remove_all(path, ec);
  try {
    forget_scratch(path);
  } catch (...) {
  }
}

std::string file_identity(const fs::path& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) throw Error::from_errno("cannot stat", path);
  return fmt::format("{}|{}|{}|{}|{}.{}", path.string(), st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec);
}

} // namespace qb
