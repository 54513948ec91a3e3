#include "cli/v86_runtime.hpp"

#include <cstdlib>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/paths.hpp"
#include "core/process.hpp"

namespace qb::cli {

namespace fs = std::filesystem;

namespace {

bool has_runtime(const fs::path& pkg) {
  std::error_code ec;
  return fs::is_regular_file(pkg / "build/libv86.js", ec) && fs::is_regular_file(pkg / "build/v86.wasm", ec);
}

fs::path cache_prefix() { return downloads_dir() / fmt::format("v86-{}", kV86Version); }

// The integrity npm recorded for node_modules/v86 in PREFIX's lockfile, if any.
std::string installed_integrity(const fs::path& prefix) {
  for (auto lock : {prefix / "node_modules/.package-lock.json", prefix / "package-lock.json"}) {
    std::ifstream in(lock);
    if (!in) continue;
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded()) continue;
    auto p = j.value("/packages/node_modules~1v86/integrity"_json_pointer, std::string());
    if (!p.empty()) return p;
  }
  return {};
}

} // namespace

std::optional<V86Runtime> find_v86_runtime() {
  if (const char* d = std::getenv("QUICKBOOT_V86_DIR"); d && *d) {
    if (!has_runtime(d))
      throw Error(fmt::format("$QUICKBOOT_V86_DIR is {}, but it has no build/libv86.js and build/v86.wasm", d),
                  "point it at the v86 npm package's directory (node_modules/v86), or unset it");
    return V86Runtime{d, "$QUICKBOOT_V86_DIR"};
  }
  std::error_code ec;
  for (fs::path dir = fs::current_path(ec); !ec && !dir.empty(); dir = dir.parent_path()) {
    if (has_runtime(dir / "node_modules/v86")) return V86Runtime{dir / "node_modules/v86", "the project's node_modules"};
    if (dir == dir.root_path()) break;
  }
  if (!find_program("npm").empty()) {
    auto r = run_capture({"npm", "root", "-g"});
    std::string root = r.out.substr(0, r.out.find('\n'));
    if (r.exit_code == 0 && !root.empty() && has_runtime(fs::path(root) / "v86"))
      return V86Runtime{fs::path(root) / "v86", "the global npm prefix"};
  }
  if (has_runtime(cache_prefix() / "node_modules/v86"))
    return V86Runtime{cache_prefix() / "node_modules/v86", "quickboot's download cache"};
  return std::nullopt;
}

V86Runtime find_or_fetch_v86_runtime() {
  if (auto r = find_v86_runtime()) return *r;
  const std::string hint = fmt::format(
      "install it yourself (npm install v86@{} in this directory, or npm install -g v86) or set "
      "QUICKBOOT_V86_DIR to a v86 package directory", kV86Version);
  if (find_program("npm").empty())
    throw Error("the v86 runtime (npm package v86: libv86.js, v86.wasm) is not installed, and npm is missing to fetch it",
                "apt-get install npm, or " + hint);
  fs::path prefix = cache_prefix();
  fs::path tmp = prefix.string() + ".tmp";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp);
  log::notice("fetching the v86 runtime (npm package v86@{}) into {} ...", kV86Version, prefix.string());
  auto r = run_capture({"npm", "install", "--prefix", tmp.string(), "--no-audit", "--no-fund", "--ignore-scripts",
                        "--no-save", fmt::format("v86@{}", kV86Version)});
  auto fail = [&](const std::string& what) {
    fs::remove_all(tmp, ec);
    return Error(what, hint);
  };
  if (r.exit_code != 0)
    throw fail(fmt::format("npm install v86@{} failed (exit {}): {}", kV86Version, r.exit_code,
                           r.err.substr(r.err.size() > 600 ? r.err.size() - 600 : 0)));
  std::string got = installed_integrity(tmp);
  // npm checks the tarball against the registry's integrity; this checks the registry's
  // answer against the one quickboot was tested with.
  if (got != kV86Integrity)
    throw fail(fmt::format("npm installed v86@{} with integrity '{}', not the tested '{}'", kV86Version, got, kV86Integrity));
  if (!has_runtime(tmp / "node_modules/v86"))
    throw fail(fmt::format("npm installed v86@{}, but it has no build/libv86.js and build/v86.wasm", kV86Version));
  fs::remove_all(prefix, ec);
  fs::rename(tmp, prefix);
  log::notice("fetched v86@{} (integrity verified: {}...)", kV86Version, std::string(kV86Integrity).substr(0, 20));
  return {prefix / "node_modules/v86", "quickboot's download cache (just fetched)"};
}

} // namespace qb::cli
