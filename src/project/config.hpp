#pragma once
// A project's quickboot.toml, with quickboot.local.toml beside it overriding it key by
// key and `--variant NAME` selecting a [variant.NAME] table. Order of application, each
// step setting only the keys it names: quickboot.toml, its [variant.NAME],
// quickboot.local.toml, its [variant.NAME]. Relative paths are relative to the project
// root (the directory holding quickboot.toml).
//
//   kernel   = "6.1.0-28-amd64"          # store id/prefix/release, or a `kernel add` source
//   overlays = ["overlays/autologin-serial"]   # over the rootfs; later ones win
//   inject   = [".:/root/project:ro"]   # HOST:GUEST[:ro]
//   [rootfs]  dir, command, inputs       # or rootfs = "dir"
//   [initrd]  hook_dirs, hooks, modules, add, compress, runtime
//   [boot]    memory, cpus, append, machine, writable, accel, net, timeout
//   [export]  dir, zstd
//   [variant.NAME]  any of the above
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace qb::project {

namespace fs = std::filesystem;

inline constexpr const char* config_name = "quickboot.toml";
inline constexpr const char* local_config_name = "quickboot.local.toml";

// The largest boot.timeout / --timeout accepted: a year, far beyond any test run, and
// far from overflowing a steady_clock deadline.
inline constexpr double kMaxTimeoutS = 366.0 * 24 * 3600;

struct Config {
  fs::path root;                    // absolute project root
  std::vector<fs::path> files;      // the files that were read, in order
  std::string variant;              // empty: none

  std::optional<std::string> kernel;
  fs::path rootfs;                  // absolute; empty when not configured
  std::string rootfs_command;       // run with sh -c in `root`; empty: none
  std::vector<std::string> rootfs_inputs;  // globs relative to `root`

  std::vector<fs::path> hook_dirs;  // absolute
  std::vector<std::string> hooks, modules, adds;
  std::string compress = "none", runtime = "quickboot";

  std::vector<fs::path> overlays;   // absolute; later ones win
  std::vector<std::string> injects; // HOST:GUEST[:ro], HOST made absolute

  unsigned memory_mb = 512, cpus = 1;
  std::vector<std::string> append;
  std::string machine = "pc", accel = "auto", net = "none";
  bool writable = false;
  double timeout_s = 0;

  fs::path export_dir;              // absolute; empty: no export
  int export_zstd = 0;              // 0: plain blobs; `zstd = true` means level 19, as `export --zstd`
};

// The nearest directory at or above `start` holding quickboot.toml. Nullopt when none.
std::optional<fs::path> find_root(const fs::path& start);

// Reads root/quickboot.toml, root/quickboot.local.toml when present, and the variant.
// Throws Error as "FILE:LINE: KEY: problem" for syntax errors, unknown keys, wrong
// types, bad values, and a variant that no file defines.
Config load(const fs::path& root, const std::string& variant = {});

} // namespace qb::project
