#include "core/paths.hpp"

#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <string>

namespace qb {

namespace fs = std::filesystem;

static const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

fs::path quickboot_home() {
  if (auto h = env("QUICKBOOT_HOME")) return h;
  if (auto x = env("XDG_CACHE_HOME")) return fs::path(x) / "quickboot";
  if (auto h = env("HOME")) return fs::path(h) / ".cache" / "quickboot";
  return fs::path("/tmp") / ("quickboot-" + std::to_string(::getuid()));
}

fs::path downloads_dir() {
  if (auto d = env("QUICKBOOT_DOWNLOADS")) return d;
  if (auto x = env("XDG_CACHE_HOME")) return fs::path(x) / "quickboot" / "downloads";
  if (auto h = env("HOME")) return fs::path(h) / ".cache" / "quickboot" / "downloads";
  return quickboot_home() / "downloads";
}

fs::path data_dir() {
  if (auto d = env("QUICKBOOT_DATA_DIR")) return d;
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto installed = exe.parent_path().parent_path() / "share" / "quickboot";
    if (fs::exists(installed / "initrd" / "init", ec)) return installed;
  }
  return QB_SOURCE_DIR;
}

fs::path find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? fs::path(name) : fs::path();
  const char* path = env("PATH");
  std::stringstream ss(path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    fs::path p = fs::path(dir) / name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return {};
}

} // namespace qb
