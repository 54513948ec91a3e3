// `quickboot watch`: boot once, then keep the guest in step with every edit.
#include "cli/commands.hpp"
#include "cli/watch_loop.hpp"

namespace qb::cli {

void add_watch_command(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<WatchOptions>();
  auto* w = app.add_subcommand("watch",
      "Boot ROOTFS and keep watching it, your hook directories, quickboot's runtime and the\n"
      "kernel. Each change gets the cheapest action that makes it real: a rootfs file is\n"
      "already visible over 9p (re-exported with --export, re-tested with --run); a hook,\n"
      "runtime or kernel change rebuilds the initramfs and reboots. One line per cycle says\n"
      "what changed, what was done and how long it took (--json: one object per cycle).");
  add_boot_options(*w, o->boot);
  w->add_option("--export", o->export_dir, "Also keep a v86 export of ROOTFS up to date in DIR");
  w->add_option("--zstd", o->zstd_level, "With --export: zstd-compress blobs at this level")->expected(0, 1)->default_str("19");
  w->add_option("--run", o->run, "Run this shell command in the guest after boot and after every change; pass/fail each cycle");
  w->add_flag("--headless", o->headless, "Console to a log file (its path is printed) instead of stdout");
  w->add_flag("--no-guest", o->no_guest, "Do not boot: only watch and keep the --export up to date");
  w->footer("Examples:\n"
            "  quickboot watch ./rootfs --hooks ./initcpio --hook myhook\n"
            "  quickboot watch ./rootfs --run 'sh /root/project/test.sh' --inject .:/root/project\n"
            "  quickboot watch ./rootfs --no-guest --export ./site/fs --zstd\n\n"
            "Ctrl-C ends the guest, the watcher and every child process.");
  w->callback([&g, o] {
    if (o->zstd_level < 0) o->zstd_level = 19;
    g.exit_code = watch_loop(*o, g);
  });
}

} // namespace qb::cli
