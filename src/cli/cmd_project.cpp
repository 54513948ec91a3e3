// `quickboot up` (bring a project's kernel, rootfs and export up to date, then boot or
// run a command) and `quickboot clean` (eject: remove what runs left behind).
#include <signal.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/watch_loop.hpp"
#include "cli/project_session.hpp"
#include "core/error.hpp"
#include "core/file_util.hpp"
#include "core/log.hpp"
#include "core/paths.hpp"
#include "core/signals.hpp"
#include "kernel/store.hpp"
#include "project/state.hpp"
#include "watch/watcher.hpp"

namespace qb::cli {

namespace {

namespace fs = std::filesystem;

struct UpArgs {
  std::string dir, variant;
  bool watch = false;
  double timeout = -1;
  std::vector<std::string> argv;
};

// Blocks until one of `files` changes (a config with an error, under `up -w`): true,
// or false on SIGINT/SIGTERM.
bool wait_for_change(const std::vector<fs::path>& files) {
  watch::Watcher w;
  for (const auto& f : files) w.add_root("config", f);
  SignalPipe signals;
  return w.next(signals.fd()).has_value();
}

void up(const UpArgs& a, GlobalOptions& g) {
  fs::path root = require_project_root(a.dir);
  std::vector<fs::path> config_files;
  for (bool restarted = false;; restarted = true) {
    project::Config cfg;
    try {
      cfg = project::load(root, a.variant);
    } catch (const Error& e) {
      if (!restarted) throw;
      // A typo in the middle of a watch session: say so and wait for the fix.
      log::warn("{}; fix it and save: the loop restarts then (Ctrl-C ends)", e.what());
      if (!wait_for_change(config_files)) {
        g.exit_code = 130;
        return;
      }
      continue;
    }
    config_files = cfg.files;
    fs::path state = project::state_dir(root);
    fs::create_directories(state);
    auto kernel = ensure_kernel(cfg);
    ensure_rootfs(cfg);
    ensure_export(cfg);
    auto opts = boot_options(cfg, kernel);

    // QEMU's sockets and the per-boot initramfs go to the project's runtime directory
    // (both follow TMPDIR), so `clean` can tell this project's QEMU from any other.
    fs::path runtime = project::runtime_dir(root);
    fs::create_directories(runtime);
    ::setenv("TMPDIR", runtime.c_str(), 1);
    project::RunRecord record(state, runtime);
    if (!cfg.variant.empty()) log::notice("project {} (variant {})", root.string(), cfg.variant);
    if (a.watch) {
      // The watch loop boots, re-exports and re-runs on every edit from here on; a
      // change of the configuration itself restarts it with the new settings.
      WatchOptions w;
      w.boot = opts;
      if (!cfg.export_dir.empty()) {
        w.export_dir = cfg.export_dir.string();
        w.zstd_level = cfg.export_zstd;
      }
      if (!a.argv.empty()) w.run = shell_quote(a.argv);
      w.config_files = cfg.files;
      int code = watch_loop(w, g);
      if (code == kRestartLoop) continue;
      g.exit_code = code;
    } else if (a.argv.empty()) {
      g.exit_code = boot_interactive(opts, g);
    } else {
      g.exit_code = run_command(opts, a.argv, a.timeout >= 0 ? a.timeout : cfg.timeout_s, g);
    }
    remove_all_quiet(runtime);
    return;
  }
}

// SIGTERM, then SIGKILL if it is still there after 2 s. `pid` is not our child: we
// watch /proc instead of waiting.
void end_process(pid_t pid) {
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 20 && project::process_argv(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (project::process_argv(pid)) ::kill(pid, SIGKILL);
  for (int i = 0; i < 20 && project::process_argv(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

struct CleanArgs {
  std::string dir;
  bool all = false;
};

void clean(const CleanArgs& a, GlobalOptions& g) {
  fs::path root = require_project_root(a.dir);
  fs::path state = project::state_dir(root);
  nlohmann::json report = {{"project", root.string()}, {"killed", nlohmann::json::array()},
                           {"removed", nlohmann::json::array()}, {"kernels_removed", nlohmann::json::array()}};
  std::error_code ec;

  // A live `up` owns the state: refuse rather than pull its files away.
  if (auto pid = project::read_pid(state, "up.pid")) {
    auto argv = project::process_argv(*pid);
    if (argv && !argv->empty() && fs::path((*argv)[0]).filename() == "quickboot" && *pid != ::getpid())
      throw Error(fmt::format("`quickboot up` is still running for {} (pid {})", root.string(), *pid),
                  fmt::format("stop it first (Ctrl-a x in its console, or kill {}), then clean", *pid));
  }

  // Runtime directories this project's runs may have used. up.pid's second line is only
  // a hint (the TMPDIR of that run may differ from ours): a repository can ship any
  // .quickboot/, so a directory counts only when quickboot would have made it for this
  // root, is a real directory (not a symlink) and is the user's own.
  std::vector<fs::path> runtimes = {project::runtime_dir(root), state / "tmp"};
  if (auto rec = project::read_up_record(state)) {
    if (rec->runtime.filename() == project::runtime_dir(root).filename() && project::is_own_dir(rec->runtime) &&
        std::find(runtimes.begin(), runtimes.end(), rec->runtime) == runtimes.end())
      runtimes.push_back(rec->runtime);
  }

  // QEMUs a crashed `up` left: the recorded pid, then anything else naming our runtime;
  // either way the process itself must be this user's QEMU with our runtime directory
  // in its arguments (qemu.pid alone proves nothing).
  std::vector<pid_t> victims;
  if (auto pid = project::read_pid(state, "qemu.pid")) {
    for (const auto& rt : runtimes)
      if (project::is_qemu_of(*pid, rt) && std::find(victims.begin(), victims.end(), *pid) == victims.end())
        victims.push_back(*pid);
  }
  for (const auto& rt : runtimes)
    for (pid_t p : project::find_qemus_of(rt))
      if (std::find(victims.begin(), victims.end(), p) == victims.end()) victims.push_back(p);
  for (pid_t p : victims) {
    end_process(p);
    report["killed"].push_back(p);
    log::notice("stopped QEMU pid {} left by a crashed run", p);
  }

  for (const auto& rt : runtimes) {
    if (rt.string().rfind(state.string() + "/", 0) == 0 || !project::is_own_dir(rt)) continue;
    remove_all_quiet(rt);
    report["removed"].push_back(rt.string());
  }
  struct stat st{};
  if (::lstat(state.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode)) {
      // Not ours (quickboot makes a directory): drop the link, never what it points to.
      fs::remove(state, ec);
      report["removed"].push_back(state.string());
    } else if (project::is_own_dir(state)) {
      remove_all_quiet(state);  // remove_all does not follow symlinks inside
      report["removed"].push_back(state.string());
    } else {
      log::warn("{} is not a directory of yours: left alone", state.string());
    }
  }
  // Scratch directories of any quickboot run whose process is gone.
  std::vector<fs::path> parents = {"/tmp"};
  if (const char* t = std::getenv("TMPDIR"); t && *t && fs::path(t) != "/tmp") parents.emplace_back(t);
  for (const auto& parent : parents)
    for (const auto& d : project::stale_scratch_dirs(parent, 30)) {
      remove_all_quiet(d);
      report["removed"].push_back(d.string());
    }
  for (const auto& r : report["removed"]) log::notice("removed {}", r.get<std::string>());

  if (a.all) {
    // Kept: the default kernel and the one this project names. Everything else goes.
    kernel::KernelStore store(quickboot_home());
    std::vector<std::string> keep;
    if (auto d = store.default_id()) keep.push_back(*d);
    auto cfg = project::load(root);
    if (cfg.kernel) {
      try {
        keep.push_back(store.find(*cfg.kernel).id);
      } catch (const Error&) {
        // A source path: its entry is whatever has that source recorded.
        fs::path src = fs::path(*cfg.kernel).is_absolute() ? fs::path(*cfg.kernel) : root / *cfg.kernel;
        for (const auto& e : store.list())
          if (e.source == src.string() || fs::path(e.source) == src) keep.push_back(e.id);
      }
    }
    for (const auto& e : store.list()) {
      if (std::find(keep.begin(), keep.end(), e.id) != keep.end()) continue;
      store.remove(e.id);
      remove_all_quiet(quickboot_home() / "guest-modules" / e.id);  // made by older versions
      report["kernels_removed"].push_back(e.id);
      log::notice("removed kernel {} ({}) from the store: no project here names it", e.id, e.release);
    }
    report["kernels_kept"] = keep;
  }
  if (g.json) print_json(report);
  else if (report["killed"].empty() && report["removed"].empty() && report["kernels_removed"].empty())
    log::notice("nothing to clean in {}", root.string());
}

} // namespace

void add_project_commands(CLI::App& app, GlobalOptions& g) {
  auto ua = std::make_shared<UpArgs>();
  auto* upc = app.add_subcommand("up",
      "From the project root (the nearest quickboot.toml at or above the current directory),\n"
      "bring what is stale up to date: the kernel (added to the store on first use), the\n"
      "rootfs (rootfs.command reruns when an input is newer than its last run), the initramfs\n"
      "(cached), the v86 export ([export]); then boot, or with `-- CMD` run CMD and exit with\n"
      "its status. quickboot.local.toml overrides quickboot.toml key by key; --variant NAME\n"
      "applies [variant.NAME]. State (stamps, pid files) lives in <project>/.quickboot/.");
  upc->add_option("-C,--directory", ua->dir, "Start the search for quickboot.toml in DIR");
  upc->add_option("--variant", ua->variant, "Apply [variant.NAME] from quickboot.toml / quickboot.local.toml");
  upc->add_flag("-w,--watch", ua->watch, "Continue into the watch loop (quickboot watch): with -- CMD, re-run it on every edit");
  upc->add_option("--timeout", ua->timeout, "With CMD: give up after S seconds (default: boot.timeout, else none)")
      ->check(timeout_seconds());
  upc->add_option("CMD", ua->argv, "Run this command in the guest instead of booting to a console");
  upc->footer("Examples:\n  quickboot up\n  quickboot up -- uname -a\n  quickboot up --variant debug -C ~/src/mydistro\n\n"
              "Exit status: as `boot`, or with CMD as `run` (the command's own status).");
  upc->callback([&g, ua] { up(*ua, g); });

  auto ca = std::make_shared<CleanArgs>();
  auto* cl = app.add_subcommand("clean",
      "Eject: stop any QEMU a crashed `quickboot up` left, remove <project>/.quickboot/ (stamps,\n"
      "logs, sockets, per-boot files) and quickboot scratch directories in /tmp whose process is\n"
      "gone. Never touches the rootfs or the shared kernel store (except with --all).");
  cl->add_option("-C,--directory", ca->dir, "Start the search for quickboot.toml in DIR");
  cl->add_flag("--all", ca->all,
               "Also remove store kernels nothing references (kept: the default kernel and this project's)");
  cl->callback([&g, ca] { clean(*ca, g); });
}

} // namespace qb::cli
