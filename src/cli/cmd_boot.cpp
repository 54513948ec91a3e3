// `quickboot boot` (console attached) and `quickboot run` (one command, its exit code).
#include <unistd.h>

#include <chrono>
#include <optional>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/guest_session.hpp"
#include "core/error.hpp"
#include "core/file_util.hpp"
#include "core/log.hpp"
#include "project/config.hpp"
#include "qemu/console_tail.hpp"
#include "qemu/vm.hpp"

namespace qb::cli {

namespace {

void announce(const PreparedBoot& p, const BootOptions& o, const GlobalOptions& g) {
  if (!p.accel_notice.empty()) log::notice("{}", p.accel_notice);
  if (o.writable) log::notice("ROOTFS is shared writable: the guest's changes go to {}", o.rootfs);
  if (g.verbose || log::stderr_is_tty())
    log::notice("kernel {} ({}), initramfs {} in {:.0f} ms, accelerator {}", p.kernel.release,
                p.vm.kernel.filename().string(), p.initrd_cached ? "cached" : "built", p.initrd_ms,
                qemu::to_string(p.vm.accel));
  else
    log::notice("accelerator: {}", qemu::to_string(p.vm.accel));
}

} // namespace

CLI::Validator timeout_seconds() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        double d = 0;
        try {
          std::size_t used = 0;
          d = std::stod(v, &used);
          if (used != v.size()) return "'" + v + "' is not a number of seconds";
        } catch (const std::exception&) {
          return "'" + v + "' is not a number of seconds";
        }
        if (!(d >= 0 && d <= project::kMaxTimeoutS))
          return fmt::format("{} is out of range (0 for none, up to {:.0f} seconds)", v, project::kMaxTimeoutS);
        return {};
      },
      "SECONDS");
}

int run_command(const BootOptions& o, const std::vector<std::string>& argv, double timeout_s, GlobalOptions& g) {
  auto p = prepare_boot(o, argv, false);
  struct Scratch { std::filesystem::path d; ~Scratch() { remove_all_quiet(d); } } scratch{p.scratch};
  announce(p, o, g);
  qemu::Vm vm(p.vm, {"qb.stdout", "qb.stderr", "qb.status"});
  qemu::ConsoleTail console(g.verbose);
  std::string status;
  qemu::VmEvents ev;
  ev.console = [&](std::string_view d) { console.feed(d); };
  ev.port = [&](const std::string& port, std::string_view d) {
    if (port == "qb.stdout") (void)!::write(1, d.data(), d.size());
    else if (port == "qb.stderr") (void)!::write(2, d.data(), d.size());
    else status.append(d);
  };
  // `run` has no console to type into: a shell waiting for input would wait until
  // --timeout (or forever), so it ends the run instead.
  ev.stop = [&] { return !console.waiting_for_input().empty(); };
  vm.start();
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // Callers bound timeout_s (kMaxTimeoutS): the millisecond count fits in 64 bits.
  if (timeout_s > 0 && timeout_s <= project::kMaxTimeoutS)
    deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<std::int64_t>(timeout_s * 1000));
  auto end = vm.run(ev, deadline);
  if (end == qemu::VmEnd::interrupted) {
    vm.stop();
    throw Error("interrupted; the guest was stopped", {}, ExitCode::interrupted);
  }
  if (end == qemu::VmEnd::timeout) {
    vm.stop();
    throw Error(fmt::format("timed out after {} s; {}", timeout_s, console.explain(vm.restored())),
                "raise --timeout, or run with -v to watch the console", ExitCode::timeout);
  }
  if (end == qemu::VmEnd::external) {
    vm.stop();
    std::string failed = console.failures();
    throw Error(fmt::format("{}, and `run` has no console to type into; the guest was stopped\n{}last console lines:\n{}",
                            console.waiting_for_input(),
                            failed.empty() ? "" : "failures the console reported:\n" + failed, console.tail()),
                "`quickboot boot` gives the same boot a console; run with -v to see the whole console",
                ExitCode::guest_failed);
  }
  if (status.rfind("exit ", 0) == 0) return std::stoi(status.substr(5));
  if (!console.fatal().empty())
    throw Error(fmt::format("the guest failed before the command ran: {}\n{}", console.fatal(), console.tail()),
                "run with -v to see the whole console", ExitCode::guest_failed);
  if (!console.panic().empty())
    throw Error(fmt::format("kernel panic: {}\n{}", console.panic(), console.tail()), "run with -v to see the whole console",
                ExitCode::boot_failed);
  int st = vm.status().value_or(0);
  throw Error(fmt::format("the guest stopped before the command ran (QEMU status {}); {}", st,
                          console.explain(vm.restored())),
              "run with -v to see the whole console", ExitCode::boot_failed);
}

int boot_interactive(const BootOptions& options, GlobalOptions& g) {
  bool tty = ::isatty(0) && ::isatty(1);
  BootOptions o = options;
  o.console_input = true;
  auto p = prepare_boot(o, {}, tty);
  struct Scratch { std::filesystem::path d; ~Scratch() { remove_all_quiet(d); } } scratch{p.scratch};
  announce(p, o, g);
  if (tty) log::notice("console attached; Ctrl-a x quits, Ctrl-a c toggles the QEMU monitor");
  p.vm.forward_stdin = !tty;
  qemu::Vm vm(p.vm, {});
  qemu::ConsoleTail console(false);
  // The console is quiet for long stretches (`quiet`): say on stderr where the boot is.
  console.on_line = [](const std::string& line) {
    if (line.find("quickboot-init: kernel booted") != std::string::npos)
      log::notice("kernel booted; the initramfs is mounting the root");
    auto at = line.find("quickboot-init: switching to ");
    if (at != std::string::npos)
      log::notice("switched to the rootfs's init {}; it prints when it has something to say (systemd under TCG: "
                  "a minute or more)", line.substr(at + 29));
  };
  qemu::VmEvents ev;
  ev.console = [&](std::string_view d) {
    (void)!::write(1, d.data(), d.size());
    console.feed(d);
  };
  vm.start();
  auto end = vm.run(ev, std::nullopt);
  if (end == qemu::VmEnd::interrupted) {
    vm.stop();
    throw Error("interrupted; the guest was stopped", {}, ExitCode::interrupted);
  }
  console.flush_line();
  if (!console.fatal().empty())
    throw Error("the guest failed in the initramfs: " + console.fatal(), {}, ExitCode::guest_failed);
  if (!console.panic().empty()) throw Error("kernel panic: " + console.panic(), {}, ExitCode::boot_failed);
  return 0;
}

void add_boot_commands(CLI::App& app, GlobalOptions& g) {
  auto bo = std::make_shared<BootOptions>();
  auto* boot = app.add_subcommand("boot",
      "Boot ROOTFS, a host directory, as the guest's root: kernel from the store, initramfs\n"
      "built (or reused) in milliseconds, the tree shared over virtio-9p. The host tree is\n"
      "protected: the guest writes into a tmpfs overlay unless --writable. On a terminal the\n"
      "serial console is attached (Ctrl-a x quits); otherwise it is copied to stdout and stdin\n"
      "is forwarded to it (a script can type into the guest's shell or login prompt). With\n"
      "`quiet` (the default) stderr says when the kernel booted and init started.");
  add_boot_options(*boot, *bo);
  boot->footer("Examples:\n  quickboot boot ./rootfs\n  quickboot boot ./rootfs --inject .:/root/project --append init=/bin/sh\n"
               "  quickboot boot ./rootfs --hooks ./initcpio --hook myhook --append break=premount");
  boot->callback([&g, bo] { g.exit_code = boot_interactive(*bo, g); });

  auto ro = std::make_shared<BootOptions>();
  auto argv = std::make_shared<std::vector<std::string>>();
  auto timeout = std::make_shared<double>(0);
  auto* run = app.add_subcommand("run",
      "Boot ROOTFS, run one command inside it, power off, and exit with the command's status.\n"
      "The command's stdout and stderr arrive on quickboot's stdout and stderr (kept apart,\n"
      "never mixed with console messages); ROOTFS is not modified.");
  add_boot_options(*run, *ro);
  run->add_option("--timeout", *timeout, "Give up after S seconds: exit 124 with the last console lines")
      ->check(timeout_seconds());
  run->add_flag("--boot", ro->boot_init,
                "Boot the rootfs's own init (systemd) and run CMD once the system is up (a unit after\n"
                "multi-user.target, started when the boot finished); prints the failed units when the\n"
                "system is degraded. Other inits: an error");
  run->add_option("CMD", *argv, "The command and its arguments, after --")->required();
  run->footer("Examples:\n  quickboot run ./rootfs -- uname -a\n  quickboot run ./rootfs --timeout 60 -- sh -c 'make -C /root/project test'\n"
              "  quickboot run ./debian --boot --timeout 600 -- systemctl is-system-running\n\n"
              "Exit status: the command's own (0-255); 124 timeout; 127 command not found;\n"
              "3 the boot failed in the initramfs, or the guest waits for console input (a shell,\n"
              "systemd's emergency mode); 4 the guest never reached the command; 1 bad input.");
  run->callback([&g, ro, argv, timeout] { g.exit_code = run_command(*ro, *argv, *timeout, g); });
}

} // namespace qb::cli
