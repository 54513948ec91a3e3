#include "cli/watch_loop.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <memory>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "core/log.hpp"
#include "core/paths.hpp"
#include "core/signals.hpp"
#include "kernel/store.hpp"
#include "qemu/console_tail.hpp"
#include "qemu/vm.hpp"
#include "v86/exporter.hpp"
#include "watch/watcher.hpp"

namespace qb::cli {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

std::string describe(const watch::Batch& b, const watch::Watcher& w) {
  if (b.overflowed) return "many files changed (event queue overflowed, rescanned)";
  const auto& c = b.changes.front();
  // Rootfs paths relative to the rootfs (as the guest sees them), others in full.
  std::string first = c.root_id == "rootfs" ? (c.path.empty() ? "rootfs" : c.path.string()) : w.absolute(c).string();
  std::string what = fmt::format("{} {}", first, c.kind == watch::Change::Kind::deleted ? "deleted" : "changed");
  if (b.changes.size() > 1) what += fmt::format(" (and {} more)", b.changes.size() - 1);
  return what;
}

class Loop {
public:
  Loop(const WatchOptions& o, GlobalOptions& g) : o_(o), g_(g) {}

  int run() {
    rootfs_ = fs::absolute(o_.boot.rootfs);
    watch::Options wo;
    // A checkout or rsync can take seconds under load: only a pause ends a batch,
    // up to 10 s of continuous changes.
    wo.max_delay = std::chrono::seconds(10);
    if (o_.export_dir) wo.ignore_paths.push_back(fs::absolute(*o_.export_dir));
    watcher_ = std::make_unique<watch::Watcher>(wo);
    watcher_->add_root("rootfs", rootfs_);
    int n = 0;
    for (const auto& d : o_.boot.initrd.hook_dirs) watcher_->add_root(fmt::format("hooks{}", n++), d);
    watcher_->add_root("runtime", data_dir() / "initrd");
    n = 0;
    for (const auto& d : o_.boot.overlays) watcher_->add_root(fmt::format("overlay{}", n++), d);
    for (const auto& f : o_.config_files) watcher_->add_root("config", f);
    if (!o_.no_guest) {
      // The entry's bzImage stands for the kernel: watching its 4,000 module files
      // would cost hundreds of inotify watches for a directory that never changes.
      kernel::KernelStore store(quickboot_home());
      watcher_->add_root("kernel", store.resolve(o_.boot.initrd.kernel).bzimage);
    }
    if (o_.headless || g_.json) {
      fs::path log_dir = make_temp_dir(quickboot_home() / "logs", "watch");
      keep_temp_dir(log_dir);  // the console log is for the user, after we are gone
      log_path_ = log_dir / "console.log";
      log_fd_.reset(::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
      log::notice("guest console: {}", log_path_.string());
    }
    log::notice("watching {} ({} inotify watches); Ctrl-C ends", rootfs_.string(), watcher_->watch_count());

    SignalPipe signals;
    if (o_.export_dir) export_now("initial export", Clock::now());
    if (!o_.no_guest) start_guest("first boot", Clock::now());
    for (;;) {
      if (signals.received()) return stop(130);
      if (restart_) return stop(kRestartLoop);
      if (vm_ && vm_->running()) {
        auto deadline = watcher_->pending_until();
        bool batch_ready = false;
        auto end = vm_->run(events(), deadline,
                            {{watcher_->fd(), [&] { batch_ready = true; return false; }}});
        if (end == qemu::VmEnd::interrupted) return stop(130);
        if (end == qemu::VmEnd::exited) {
          guest_stopped();
          continue;
        }
        (void)batch_ready;
        auto batch = watcher_->next(-1, Clock::now());
        if (batch) handle(*batch);
      } else {
        auto batch = watcher_->next(signals.fd());
        if (!batch) return stop(130);
        handle(*batch);
      }
    }
  }

private:
  qemu::VmEvents events() {
    qemu::VmEvents ev;
    ev.console = [this](std::string_view d) { on_console(d); };
    ev.port = [this](const std::string& port, std::string_view d) { on_port(port, d); };
    return ev;
  }

  void on_console(std::string_view d) {
    if (log_fd_) (void)!::write(log_fd_.get(), d.data(), d.size());
    else (void)!::write(1, d.data(), d.size());
    line_.append(d);
    for (auto nl = line_.find('\n'); nl != std::string::npos; nl = line_.find('\n')) {
      std::string l = line_.substr(0, nl);
      line_.erase(0, nl + 1);
      if (l.find("quickboot-init: switching to") != std::string::npos && cycle_ && !o_.run) {
        finish_cycle(fmt::format("guest at userspace in {:.1f} s", ms_since(boot_start_) / 1000), true, std::nullopt);
      }
      if (l.find("quickboot-init: FATAL: ") != std::string::npos && cycle_) {
        finish_cycle("guest failed: " + l.substr(l.find("FATAL: ") + 7), false, std::nullopt);
      }
      // A foreign runtime's shell or systemd's emergency mode waits for input the watch
      // cannot give: the cycle fails now, and the next save boots again.
      if (auto why = qemu::console_input_wait(l); !why.empty()) {
        std::string text = fmt::format("{}; watch has no console input (`quickboot boot` has one), save again to reboot", why);
        if (cycle_) finish_cycle(text, false, std::nullopt);
        else log::warn("{}", text);  // after the cycle ended at "switching to": systemd's emergency mode
      }
    }
  }

  void on_port(const std::string& port, std::string_view d) {
    int out = g_.json ? 2 : 1;
    if (port == "qb.stdout") (void)!::write(out, d.data(), d.size());
    else if (port == "qb.stderr") (void)!::write(2, d.data(), d.size());
    else if (port == "qb.status") {
      status_.append(d);
      auto nl = status_.find('\n');
      if (nl == std::string::npos) return;
      int code = std::atoi(status_.substr(5, nl - 5).c_str());
      status_.erase(0, nl + 1);
      if (cycle_) {
        std::string when = cycle_->rebooted ? fmt::format("guest up and ran it in {:.1f} s", ms_since(boot_start_) / 1000)
                                            : fmt::format("ran in {:.0f} ms", ms_since(cycle_->start));
        finish_cycle(fmt::format("{} -> {} (exit {})", when, code == 0 ? "pass" : "FAIL", code), code == 0, code);
      }
    }
  }

  struct Cycle {
    Clock::time_point start;
    std::string text;
    bool rebooted = false;
    nlohmann::json json;
  };

  void begin_cycle(std::string text, Clock::time_point start) {
    cycle_ = Cycle{start, std::move(text), false, nlohmann::json::object()};
    cycle_->json["changed"] = cycle_->text;
  }

  void finish_cycle(const std::string& tail, bool ok, std::optional<int> exit_code) {
    if (!cycle_) return;
    std::string line = cycle_->text + (tail.empty() ? "" : " -> " + tail);
    if (g_.json) {
      auto& j = cycle_->json;
      j["ok"] = ok;
      j["summary"] = line;
      j["milliseconds"] = ms_since(cycle_->start);
      if (exit_code) j["exit_code"] = *exit_code;
      print_json_line(j);
    }
    log::info("{}", line);
    cycle_.reset();
  }

  static void print_json_line(const nlohmann::json& j) {
    std::string s = j.dump() + "\n";
    (void)!::write(1, s.data(), s.size());
  }

  void export_now(const std::string& why, Clock::time_point start) {
    v86::ExportOptions eo;
    eo.source = rootfs_;
    eo.out = *o_.export_dir;
    eo.zstd_level = o_.zstd_level;
    auto t = Clock::now();
    try {
      auto d = v86::run_export(eo);
      std::string what = fmt::format("exported {} blob{} in {:.0f} ms", d.blobs_added.size(),
                                     d.blobs_added.size() == 1 ? "" : "s", ms_since(t));
      if (cycle_) {
        cycle_->text += " -> " + what;
        // Counts, not lists: a cycle line stays one short JSON object per cycle.
        cycle_->json["export"] = {{"blobs_added", d.blobs_added.size()}, {"blobs_removed", d.blobs_removed.size()},
                                  {"entries_changed", d.entries_changed.size() + d.entries_added.size() + d.entries_removed.size()},
                                  {"files_hashed", d.files_hashed}, {"milliseconds", ms_since(t)}};
      } else {
        log::info("{} -> {}", why, what);
      }
    } catch (const Error& e) {
      log::warn("export failed: {}", e.what());
      if (cycle_) cycle_->text += " -> export FAILED";
    }
    (void)start;
  }

  void start_guest(const std::string& why, Clock::time_point start) {
    BootOptions b = o_.boot;
    b.watch_mode = true;
    std::vector<std::string> argv;
    if (o_.run) argv = {"/bin/sh", "-c", *o_.run};
    vm_.reset();
    if (prepared_) remove_all_quiet(prepared_->scratch);
    auto t = Clock::now();
    prepared_ = prepare_boot(b, argv, false);
    double initrd_ms = ms_since(t);
    if (!cycle_) begin_cycle(why, start);
    cycle_->text += fmt::format(" -> initramfs {} in {:.0f} ms", prepared_->initrd_cached ? "reused" : "rebuilt", initrd_ms);
    cycle_->rebooted = true;
    cycle_->json["initramfs_ms"] = initrd_ms;
    std::vector<std::string> ports = {"qb.control"};
    if (o_.run) ports = {"qb.stdout", "qb.stderr", "qb.status", "qb.control"};
    vm_ = std::make_unique<qemu::Vm>(prepared_->vm, ports);
    boot_start_ = Clock::now();
    vm_->start();
    if (!announced_) {
      if (!prepared_->accel_notice.empty()) log::notice("{}", prepared_->accel_notice);
      log::notice("accelerator: {}", qemu::to_string(prepared_->vm.accel));
      announced_ = true;
    }
  }

  void guest_stopped() {
    int st = vm_->status().value_or(0);
    vm_.reset();
    if (cycle_) finish_cycle("guest stopped before it was ready", false, std::nullopt);
    log::notice("guest powered off (QEMU status {}); the next change boots it again", st);
  }

  void handle(const watch::Batch& b) {
    if (b.changes.empty() && !b.overflowed) return;
    auto start = Clock::now() - b.waited;
    bool reboot = false, rootfs = b.overflowed;
    for (const auto& c : b.changes) {
      if (c.root_id == "config") {
        // Boot options, shares, the export: anything may have changed. Start over.
        if (cycle_) finish_cycle("superseded by new changes", false, std::nullopt);
        log::info("{} changed -> restarting with the new configuration", watcher_->absolute(c).filename().string());
        restart_ = true;
        return;
      }
      if (c.root_id == "rootfs" || c.root_id.rfind("overlay", 0) == 0) rootfs = true;
      else reboot = true;  // hooks, runtime, kernel
    }
    if (cycle_) finish_cycle("superseded by new changes", false, std::nullopt);
    begin_cycle(describe(b, *watcher_), start);
    cycle_->json["files"] = b.changes.size();
    if (rootfs && o_.export_dir) export_now("", start);
    if (o_.no_guest) {
      finish_cycle("", true, std::nullopt);
      return;
    }
    if (reboot || !vm_ || !vm_->running()) {
      try {
        start_guest("", start);
      } catch (const Error& e) {
        finish_cycle(std::string("cannot boot: ") + e.what(), false, std::nullopt);
      }
      return;
    }
    if (o_.run) {
      if (!vm_->send("qb.control", "run\n")) finish_cycle("guest not ready yet; it runs the command when up", true, std::nullopt);
      return;
    }
    // Contents are visible at once (9p without cache); the agent drops the overlay's
    // dentries so created and deleted files show too.
    vm_->send("qb.control", "drop\n");
    finish_cycle("visible in the guest", true, std::nullopt);
  }

  int stop(int code) {
    vm_.reset();
    if (prepared_) remove_all_quiet(prepared_->scratch);
    if (code != kRestartLoop) log::notice("stopped");
    return code;
  }

  const WatchOptions& o_;
  GlobalOptions& g_;
  fs::path rootfs_;
  std::unique_ptr<watch::Watcher> watcher_;
  std::unique_ptr<qemu::Vm> vm_;
  std::optional<PreparedBoot> prepared_;
  std::optional<Cycle> cycle_;
  Clock::time_point boot_start_;
  fs::path log_path_;
  Fd log_fd_;
  std::string line_, status_;
  bool announced_ = false;
  bool restart_ = false;
};

} // namespace

int watch_loop(const WatchOptions& o, GlobalOptions& g) {
  Loop loop(o, g);
  return loop.run();
}

} // namespace qb::cli
