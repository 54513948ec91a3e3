#include "serve/open_beneath.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "core/io/open_beneath.hpp"

namespace qb::serve {

namespace {

// O_NONBLOCK: opening a fifo that sits in DIR must not block a server thread.
constexpr int kOpenFlags = O_RDONLY | O_NOCTTY | O_NONBLOCK;

Refusal from_errno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR: return {404, "not found"};
    case ELOOP: return {403, "symlinks are not served"};
    case EXDEV: return {403, "outside the served directory"};
    case EACCES:
    case EPERM: return {403, "permission denied"};
    case ENAMETOOLONG: return {414, "path too long"};
    default: return {500, "cannot open"};
  }
}

} // namespace

std::variant<Opened, Refusal> open_beneath(int root_fd, std::string_view path) {
  if (path.empty() || path.front() != '/') return Refusal{400, "the path must start with /"};
  if (path.find('\0') != std::string_view::npos) return Refusal{400, "NUL in the path"};
  std::vector<std::string> parts;
  for (std::size_t i = 1; i <= path.size();) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view c = path.substr(i, j - i);
    if (c == "..") return Refusal{400, "'..' is not allowed in a path"};
    if (!c.empty() && c != ".") {
      if (c.front() == '.') return Refusal{404, "hidden names are not served"};
      parts.emplace_back(c);
    }
    i = j + 1;
  }
  bool want_dir = path.back() == '/';
  if (want_dir) parts.emplace_back("index.html");

  if (parts.empty()) return Refusal{301, "/"};  // "/." and the like: the top directory
  std::string rel;
  for (auto& p : parts) {
    if (!rel.empty()) rel += '/';
    rel += p;
  }
  int fd = io::open_beneath(root_fd, rel.c_str(), kOpenFlags);
  if (fd < 0) {
    int err = errno;
    if (want_dir && err == ENOENT) return Refusal{404, "no index.html in this directory"};
    return from_errno(err);
  }
  Opened o;
  o.fd.reset(fd);
  if (::fstat(fd, &o.st) != 0) return Refusal{500, "cannot stat"};
  if (S_ISDIR(o.st.st_mode)) {
    std::string to(path);
    to += '/';
    return Refusal{301, to};
  }
  if (!S_ISREG(o.st.st_mode)) return Refusal{403, "not a regular file"};
  o.name = parts.back();
  return o;
}

} // namespace qb::serve
