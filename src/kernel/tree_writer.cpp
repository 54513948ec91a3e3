#include "kernel/tree_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.hpp"

namespace qb::kernel {

bool is_module_file(std::string_view p) {
  return p.ends_with(".ko") || p.ends_with(".ko.xz") || p.ends_with(".ko.zst") || p.ends_with(".ko.gz");
}

bool is_safe_relative(std::string_view rel) {
  if (rel.empty() || rel.front() == '/') return false;
  std::size_t start = 0;
  while (start <= rel.size()) {
    std::size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    auto part = rel.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

TreeWriter::TreeWriter(fs::path root) : root_(std::move(root)) {
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec) throw Error::from_errno("cannot create directory", root_, {}, ec.value());
}

void TreeWriter::ensure_parent(std::string_view rel) {
  auto slash = rel.rfind('/');
  if (slash == std::string_view::npos) return;
  std::string dir(rel.substr(0, slash));
  if (dirs_.contains(dir)) return;
  std::error_code ec;
  fs::create_directories(root_ / dir, ec);
  if (ec) throw Error::from_errno("cannot create directory", root_ / dir, {}, ec.value());
  // Remember every ancestor too: the next sibling directory needs only one mkdir.
  for (std::string d = dir;; ) {
    if (!dirs_.insert(d).second) break;
    auto s = d.rfind('/');
    if (s == std::string::npos) break;
    d.resize(s);
  }
}

void TreeWriter::make_dir(std::string_view rel) {
  ensure_parent(std::string(rel) + "/x");
}

Fd TreeWriter::create_file(std::string_view rel, unsigned mode) {
  ensure_parent(rel);
  fs::path p = root_ / rel;
  Fd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode & 0777));
  if (!fd) throw Error::from_errno("cannot create", p, "check free space and that the kernel store is writable");
  count_if_module(rel);
  return fd;
}

void TreeWriter::make_symlink(std::string_view rel, std::string_view target) {
  if (target.empty() || target.front() == '/' || target.find("..") != std::string_view::npos) return;
  ensure_parent(rel);
  fs::path p = root_ / rel;
  if (::symlink(std::string(target).c_str(), p.c_str()) != 0 && errno != EEXIST)
    throw Error::from_errno("cannot create symlink", p);
}

void TreeWriter::make_hardlink(std::string_view rel, std::string_view existing_rel) {
  ensure_parent(rel);
  fs::path p = root_ / rel, from = root_ / existing_rel;
  if (::link(from.c_str(), p.c_str()) != 0) throw Error::from_errno("cannot link", p);
  count_if_module(rel);
}

void TreeWriter::copy_file(const fs::path& from, std::string_view rel, unsigned mode) {
  Fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) throw Error::from_errno("cannot open", from, errno == EACCES ? "the file is readable only by root; copy it somewhere readable or fix its mode" : "");
  Fd out = create_file(rel, mode);
  for (;;) {
    ssize_t n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr, 1 << 30, 0);
    if (n == 0) return;
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
      throw Error::from_errno("cannot copy", from);
    break;  // fall back to read/write
  }
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(in.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error::from_errno("cannot read", from);
    if (n == 0) return;
    write_at(out.get(), buf, static_cast<std::size_t>(n), -1, root_ / rel);
  }
}

void write_at(int fd, const char* data, std::size_t size, std::int64_t offset, const fs::path& path) {
  while (size > 0) {
    ssize_t n = offset >= 0 ? ::pwrite(fd, data, size, offset) : ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error::from_errno("cannot write", path, "check free space in the kernel store");
    }
    data += n;
    size -= static_cast<std::size_t>(n);
    if (offset >= 0) offset += n;
  }
}

} // namespace qb::kernel
