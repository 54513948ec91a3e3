// `quickboot export SOURCE --out DIR`: a tree as v86's fs.json plus blobs, incrementally.
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/v86_bundle.hpp"
#include "core/paths.hpp"
#include "kernel/store.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "v86/exporter.hpp"

namespace qb::cli {

namespace {

struct ExportArgs {
  std::string source, out, kernel, reader = "auto";
  int zstd = 0;
  std::vector<std::string> excludes, append;
  bool prune = false, skip_unreadable = false, sync = false;
};

std::string human(std::uint64_t b) {
  if (b >= (1ull << 30)) return fmt::format("{:.1f} GiB", double(b) / double(1ull << 30));
  if (b >= (1ull << 20)) return fmt::format("{:.1f} MiB", double(b) / double(1ull << 20));
  if (b >= 1024) return fmt::format("{:.1f} KiB", double(b) / 1024);
  return fmt::format("{} B", b);
}

void run(const ExportArgs& a, GlobalOptions& g) {
  // Every precondition of the bundle first (and what it fetches): a bundle that cannot
  // be made fails before any output is written.
  std::optional<BundlePlan> plan;
  if (!a.kernel.empty()) {
    BundleSpec spec;
    spec.kernel = kernel::KernelStore(quickboot_home()).find(a.kernel);
    spec.source = a.source;
    spec.append = a.append;
    plan = prepare_v86_bundle(spec);
  } else if (!a.append.empty()) {
    throw Error("--append is for the bundle's kernel command line", "pass --kernel ID too", ExitCode::usage);
  }
  v86::ExportOptions o;
  o.source = a.source;
  o.out = a.out;
  o.zstd_level = a.zstd;
  o.excludes = a.excludes;
  if (plan && plan->modules) o.grafts.push_back(*plan->modules);
  o.prune = a.prune;
  o.skip_unreadable = a.skip_unreadable;
  o.durable = a.sync;
  o.backend = a.reader == "io_uring" ? io::Backend::uring : a.reader == "pread" ? io::Backend::pread : io::Backend::automatic;
  v86::Delta d = v86::run_export(o);
  std::optional<BundleResult> bundle;
  if (plan) bundle = write_v86_bundle(a.out, *plan, d.entries);
  if (g.json && !bundle) {
    std::fputs(d.to_json_text().c_str(), stdout);  // the same document, without building a json value
    return;
  }
  if (g.json) {
    auto j = d.to_json();
    if (bundle)
      j["bundle"] = {{"bzimage", bundle->bzimage}, {"initrd", bundle->initrd}, {"index_html", bundle->index_html},
                     {"initrd_bytes", bundle->initrd_bytes}, {"cmdline", bundle->cmdline},
                     {"v86_runtime", bundle->runtime_from}};
    print_json(j);
    return;
  }
  double total = 0;
  for (auto& [k, v] : d.timings_ms) total += v;
  log::info("exported {} entries ({}) to {}: {} files read ({}), {} new blob{}, {} removed, "
            "{} added / {} changed / {} removed entries, {:.0f} ms",
            d.entries, human(d.total_size), a.out, d.files_hashed, human(d.bytes_hashed), d.blobs_added.size(),
            d.blobs_added.size() == 1 ? "" : "s", d.blobs_removed.size(), d.entries_added.size(),
            d.entries_changed.size(), d.entries_removed.size(), total);
  if (bundle)
    log::info("v86 bundle: {} + {} ({} bytes) + {} + v86/ (libv86.js, v86.wasm from {}; SeaBIOS)\n"
              "  kernel command line: {}\n  serve it: quickboot serve {}",
              bundle->bzimage.filename().string(), bundle->initrd.filename().string(), bundle->initrd_bytes,
              bundle->index_html.filename().string(), bundle->runtime_from, bundle->cmdline, a.out);
}

} // namespace

void add_export_command(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<ExportArgs>();
  auto* cmd = app.add_subcommand("export", "Export a tree for the v86 browser emulator (fs.json + blobs), incrementally");
  cmd->add_option("SOURCE", a->source, "A directory, or a tar archive (plain, .gz, .xz, .zst)")->required();
  cmd->add_option("--out", a->out, "The output directory: fs.json and the blobs go here, flat")->required();
  cmd->add_option("--zstd", a->zstd,
                  "Compress blobs with zstd (.bin.zst): one frame each, window <= 128 MiB, as v86 needs. "
                  "Bare --zstd means level 19, like v86's own tools")
      ->expected(0, 1)
      ->default_str("19")
      ->check(CLI::Range(1, 22));
  cmd->add_option("--exclude", a->excludes, "Leave out PATH (relative to SOURCE): a file, or a directory and all below it")->allow_extra_args(false);
  cmd->add_flag("--prune", a->prune, "Delete blobs that nothing refers to any more, after the new fs.json is in place");
  cmd->add_flag("--skip-unreadable", a->skip_unreadable,
                "Leave out files and directories that cannot be read, with a warning, instead of failing");
  cmd->add_flag("--sync", a->sync,
                "Make the export durable against power failures: flush the new blobs to disk before fs.json\n"
                "is replaced, and fsync fs.json and the state (slower; off by default, like git)");
  cmd->add_option("--reader", a->reader, "How files are read: auto, io_uring, pread (QUICKBOOT_NO_IO_URING=1 forces pread)")
      ->check(CLI::IsMember({"auto", "io_uring", "pread"}));
  cmd->add_option("--kernel", a->kernel,
                  "Also write a bootable v86 bundle: kernel ID (i686) from the store, an initramfs for it, v86's\n"
                  "runtime and index.html (docs/export.md: where the runtime and busybox come from)");
  cmd->add_option("--append", a->append,
                  "With --kernel: add WORDS to the page's kernel command line (init=/bin/sh, quiet, systemd.unit=...)")
      ->allow_extra_args(false);
  cmd->footer(
      "What you get: DIR/fs.json (version 3, children sorted bytewise, byte-stable for the same tree)\n"
      "and one blob per distinct content, named <first 8 hex of its SHA-256>.bin (.bin.zst with --zstd).\n"
      "Point v86 at it with  filesystem: { basefs: \"DIR/fs.json\", baseurl: \"DIR/\" }.\n\n"
      "Incremental: quickboot keeps DIR/.quickboot/state and on the next run reads and hashes only\n"
      "files whose device, inode, size, mtime or ctime changed. New blobs are written first, then\n"
      "fs.json is replaced atomically, so fs.json never names a missing blob even if the run is killed.\n"
      "Nothing is fsync'd unless --sync: after a power failure (not a killed run) without --sync,\n"
      "delete DIR/.quickboot/state and export again; the blobs are then verified by content.\n"
      "--json prints what changed (blobs added and removed): upload just those to your web host.\n\n"
      "Special cases (docs/export.md): hard links and equal files share one blob; fifos, devices and\n"
      "sockets are listed but v86 drops them; symlinks are never followed; names that are not UTF-8\n"
      "are skipped with a warning; unreadable files are an error unless --skip-unreadable.\n\n"
      "Examples:\n"
      "  quickboot export ./rootfs --out site/fs\n"
      "  quickboot export rootfs.tar.zst --out site/fs --zstd --prune\n"
      "  quickboot export / --out /srv/v86 --exclude proc --exclude sys --json");
  cmd->callback([a, &g] {
    run(*a, g);
  });
}

} // namespace qb::cli
