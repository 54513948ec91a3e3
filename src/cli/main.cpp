// quickboot's entry point: parses the command line, runs one subcommand, and turns
// every qb::Error into one "quickboot: error:" line plus a hint, and an exit code.
#include <signal.h>

#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/signals.hpp"

namespace qb::cli {

void print_json(const nlohmann::json& j) { std::cout << j.dump(2) << std::endl; }

} // namespace qb::cli

int main(int argc, char** argv) {
  using namespace qb;
  cli::GlobalOptions g;
  CLI::App app{
      "quickboot: an edit-and-boot loop for Linux system work.\n"
      "Takes a kernel out of whatever you have (a .deb, an Arch package, an ISO, a rootfs, a bzImage),\n"
      "builds a tiny initramfs in milliseconds and boots a live host directory as the guest's root\n"
      "over virtio-9p. It can also export a tree for the v86 browser emulator.\n\n"
      "Typical first steps:\n"
      "  quickboot kernel add linux-image-6.1.0-28-amd64_*.deb --default\n"
      "  quickboot run ./rootfs -- uname -a\n"
      "  quickboot boot ./rootfs             (console attached; Ctrl-a x quits)\n\n"
      "Exit codes: 0 ok, 1 error, 2 bad usage, 3 guest failed, 4 boot failed,\n"
      "124 timeout, 127 command not found in guest, 130 interrupted; `run` returns the\n"
      "guest command's own status. See docs/exit-codes.md.",
      "quickboot"};
  app.set_version_flag("--version", QB_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_flag("--json", g.json, "Print machine-readable JSON on stdout");
  app.add_flag("-q,--quiet", g.quiet, "Only errors on stderr");
  app.add_flag("-v,--verbose", g.verbose, "More detail on stderr");
  app.parse_complete_callback([&] {
    log::set_level(g.quiet ? log::Level::quiet : g.verbose ? log::Level::verbose : log::Level::normal);
  });

  cli::add_kernel_command(app, g);
  cli::add_initrd_command(app, g);
  cli::add_boot_commands(app, g);
  cli::add_export_command(app, g);
  cli::add_watch_command(app, g);
  cli::add_project_commands(app, g);
  cli::add_doctor_command(app, g);
  cli::add_serve_command(app, g);

  ::signal(SIGPIPE, SIG_IGN);
  install_cleanup_on_signals();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(ExitCode::usage);
  } catch (const Error& e) {
    log::progress_done();
    std::fprintf(stderr, "quickboot: error: %s\n", e.what());
    if (!e.hint().empty()) std::fprintf(stderr, "  hint: %s\n", e.hint().c_str());
    if (g.json) cli::print_json({{"error", e.what()}, {"hint", e.hint()}, {"exit_code", static_cast<int>(e.exit_code())}});
    return static_cast<int>(e.exit_code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "quickboot: internal error: %s\n", e.what());
    return static_cast<int>(ExitCode::failure);
  }
  return g.exit_code;
}
