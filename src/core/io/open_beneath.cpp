#include "core/io/open_beneath.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

#include "core/fd.hpp"

namespace qb::io {
namespace {

std::atomic<bool> no_openat2{false};

// Component by component: every directory opened with O_NOFOLLOW | O_DIRECTORY
// relative to the one before, ".." refused.
int open_walk(int root_fd, const char* rel, int flags) {
  std::string_view rest(rel);
  Fd cur;
  int dir = root_fd;
  for (;;) {
    while (rest.starts_with('/')) rest.remove_prefix(1);
    auto s = rest.find('/');
    std::string name(rest.substr(0, s));
    rest.remove_prefix(s == std::string_view::npos ? rest.size() : s);
    while (rest.starts_with('/')) rest.remove_prefix(1);
    if (name == "..") {
      errno = EXDEV;  // what RESOLVE_BENEATH answers
      return -1;
    }
    const char* comp = name.empty() ? "." : name.c_str();
    if (rest.empty()) return ::openat(dir, comp, flags);
    int fd = ::openat(dir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    cur = Fd(fd);
    dir = fd;
  }
}

} // namespace

unsigned long long beneath_resolve_flags() { return RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS; }

int open_beneath(int root_fd, const char* rel, int flags) {
  if (!*rel) rel = ".";
  flags |= O_CLOEXEC | O_NOFOLLOW;
  if (!no_openat2.load(std::memory_order_relaxed)) {
    open_how how{};
    how.flags = static_cast<unsigned long long>(flags);
    how.resolve = beneath_resolve_flags();
    long fd = ::syscall(SYS_openat2, root_fd, rel, &how, sizeof how);
    if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) return static_cast<int>(fd);
    no_openat2 = true;  // old kernel or seccomp
  }
  return open_walk(root_fd, rel, flags);
}

int stat_beneath(int root_fd, const char* rel, struct stat& st) {
  Fd fd(open_beneath(root_fd, rel, O_PATH));
  if (!fd) return -1;
  return ::fstat(fd.get(), &st);
}

} // namespace qb::io
