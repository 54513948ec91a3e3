#include "cli/project_session.hpp"

#include <sys/stat.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "core/log.hpp"
#include "core/paths.hpp"
#include "core/process.hpp"
#include "kernel/add.hpp"
#include "project/stale.hpp"
#include "project/state.hpp"
#include "v86/exporter.hpp"

namespace qb::cli {

namespace fs = std::filesystem;

fs::path require_project_root(const std::string& dir) {
  fs::path start = dir.empty() ? fs::current_path() : fs::path(dir);
  std::error_code ec;
  if (!dir.empty() && !fs::is_directory(start, ec)) throw Error(fmt::format("-C {}: not a directory", dir));
  auto root = project::find_root(start);
  if (!root)
    throw Error(fmt::format("no {} in {} or any directory above it", project::config_name,
                            fs::absolute(start).lexically_normal().string()),
                "create one (see examples/controller-project/quickboot.toml), or pass -C PROJECT_DIR");
  return *root;
}

std::optional<std::string> ensure_kernel(const project::Config& c) {
  if (!c.kernel) return std::nullopt;
  kernel::KernelStore store(quickboot_home());
  const std::string& k = *c.kernel;
  fs::path source = fs::path(k).is_absolute() ? fs::path(k) : c.root / k;
  std::error_code ec;
  if (!fs::exists(source, ec)) {
    // Not a file: a store id, id prefix or release (find() explains what exists).
    try {
      return store.find(k).id;
    } catch (const Error& e) {
      throw Error(fmt::format("{}: kernel = \"{}\" is neither a kernel in the store nor a file or directory",
                              c.files.back().string(), k),
                  "name a store entry (`quickboot kernel list`) or a .deb, Arch package, ISO, rootfs or bzImage");
    }
  }
  // A source: added once, then remembered by path, size and mtime.
  struct stat st{};
  ::stat(source.c_str(), &st);
  nlohmann::json key = {{"source", source.string()}, {"size", st.st_size}, {"mtime", st.st_mtim.tv_sec}};
  fs::path stamp = project::state_dir(c.root) / "kernel.json";
  try {
    auto j = nlohmann::json::parse(read_file(stamp));
    if (j.value("key", nlohmann::json()) == key && store.get(j.value("id", "")))
      return j["id"].get<std::string>();
  } catch (const std::exception&) {
    // No stamp, or an unreadable one: add again (an add of a stored kernel is cheap).
  }
  log::notice("adding the project's kernel from {}", source.string());
  kernel::AddOptions ao;
  ao.source = source;
  auto r = kernel::add_kernel(store, ao);
  log::notice("{} kernel {}", r.already_present ? "using stored" : "added", r.entry.id);
  fs::create_directories(stamp.parent_path(), ec);
  write_file_atomic(stamp, nlohmann::json{{"key", key}, {"id", r.entry.id}}.dump() + "\n");
  return r.entry.id;
}

void ensure_rootfs(const project::Config& c) {
  if (c.rootfs.empty())
    throw Error(fmt::format("{}: no rootfs configured", (c.root / project::config_name).string()),
                "add rootfs = \"DIR\", or a [rootfs] table with dir, command and inputs");
  std::error_code ec;
  if (c.rootfs_command.empty()) {
    if (!fs::is_directory(c.rootfs, ec))
      throw Error(fmt::format("rootfs {} does not exist", c.rootfs.string()),
                  "create it, or give [rootfs] a command that builds it");
    return;
  }
  fs::path state = project::state_dir(c.root);
  fs::path stamp = state / "rootfs.stamp";
  auto why = project::rootfs_stale(c.root, c.rootfs, c.rootfs_command, c.rootfs_inputs, stamp);
  if (!why) {
    log::debug("rootfs {} is up to date", c.rootfs.string());
    return;
  }
  log::notice("rebuilding the rootfs ({}): {}", *why, c.rootfs_command);
  fs::create_directories(state, ec);
  auto started = fs::file_time_type::clock::now();
  // The command's stdout goes to stderr: under `up -- CMD`, stdout is the guest's alone.
  ProcessOptions po;
  po.argv = {"/bin/sh", "-c", "exec 1>&2\n" + c.rootfs_command};
  po.cwd = c.root;
  po.extra_env = {"QB_PROJECT_ROOT=" + c.root.string(), "QB_ROOTFS=" + c.rootfs.string()};
  po.in = Stdio::null;
  po.new_process_group = false;  // Ctrl-C reaches the command and all it started
  Process p(po);
  int st = p.wait();
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    throw Error(fmt::format("rootfs.command failed ({}): {}",
                            WIFEXITED(st) ? fmt::format("exit {}", WEXITSTATUS(st)) : "killed by a signal",
                            c.rootfs_command),
                "fix the command and run `quickboot up` again; it reruns until it succeeds");
  if (!fs::is_directory(c.rootfs, ec))
    throw Error(fmt::format("rootfs.command succeeded but {} does not exist", c.rootfs.string()),
                "make the command create rootfs.dir, or point dir at what it creates");
  project::write_stamp(stamp, c.rootfs_command, started);
}

void ensure_export(const project::Config& c) {
  if (c.export_dir.empty()) return;
  v86::ExportOptions o;
  o.source = c.rootfs;
  o.out = c.export_dir;
  o.zstd_level = c.export_zstd;
  auto d = v86::run_export(o);
  log::notice("export {}: {} entries, {} new blob{}", c.export_dir.string(), d.entries, d.blobs_added.size(),
              d.blobs_added.size() == 1 ? "" : "s");
}

BootOptions boot_options(const project::Config& c, const std::optional<std::string>& kernel) {
  BootOptions o;
  o.rootfs = c.rootfs.string();
  o.initrd.kernel = kernel;
  for (const auto& d : c.hook_dirs) o.initrd.hook_dirs.push_back(d.string());
  o.initrd.hooks = c.hooks;
  o.initrd.modules = c.modules;
  o.initrd.adds = c.adds;
  o.initrd.compress = c.compress;
  o.initrd.runtime = c.runtime;
  o.append = c.append;
  o.memory_mb = c.memory_mb;
  o.cpus = c.cpus;
  o.accel = c.accel;
  o.machine = c.machine;
  o.writable = c.writable;
  o.injects = c.injects;
  for (const auto& d : c.overlays) o.overlays.push_back(d.string());
  o.net = c.net;
  return o;
}

} // namespace qb::cli
