#pragma once
// Opens a URL path as a file beneath a served directory, and nothing outside it: no
// `..`, no symlink anywhere on the way, no hidden names (DIR/.quickboot holds the
// export's state). The URL path is checked here; the open itself is core/io's
// open_beneath (the kernel's RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or a component walk).
#include <sys/stat.h>

#include <string>
#include <string_view>
#include <variant>

#include "core/fd.hpp"

namespace qb::serve {

struct Opened {
  Fd fd;
  struct stat st {};
  std::string name;  // the last component: what the content type and cache policy go by
};

// Why a path was not opened, as an HTTP status plus a short reason for the body.
struct Refusal {
  int status;  // 400 bad path, 403 symlink / not a regular file, 404 absent or hidden,
               // 301 a directory named without its trailing slash
  std::string reason;
};

// `path` is the URL path after percent-decoding ("/", "/fs.json", "/v86/libv86.js").
// A path ending in "/" means that directory's index.html. Never throws.
std::variant<Opened, Refusal> open_beneath(int root_fd, std::string_view path);

} // namespace qb::serve
