// `quickboot serve DIR`: an export or a bundle over HTTP for the browser, and with
// --watch ROOTFS a live one that re-exports on every change and reloads open pages.
#include <poll.h>

#include <memory>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/signals.hpp"
#include "serve/server.hpp"
#include "v86/exporter.hpp"
#include "watch/watcher.hpp"

namespace qb::cli {

namespace fs = std::filesystem;

namespace {

struct ServeArgs {
  std::string dir, bind = "127.0.0.1", watch;
  int port = 8086, zstd = 0;
};

// Re-exports ROOTFS into DIR; returns what to tell the pages, or nullopt when fs.json
// did not change (or the export failed: the previous one keeps being served).
std::optional<std::string> reexport(const ServeArgs& a) {
  v86::ExportOptions eo;
  eo.source = a.watch;
  eo.out = a.dir;
  eo.zstd_level = a.zstd;
  try {
    auto d = v86::run_export(eo);
    log::info("exported {} to {}: {} files read, {} new blob{}", a.watch, a.dir, d.files_hashed,
              d.blobs_added.size(), d.blobs_added.size() == 1 ? "" : "s");
    if (!d.fs_json_changed) return std::nullopt;
    return fmt::format("{} entries changed", d.entries_added.size() + d.entries_changed.size() + d.entries_removed.size());
  } catch (const Error& e) {
    log::warn("export failed, still serving the previous one: {}", e.what());
    if (!e.hint().empty()) log::warn("  hint: {}", e.hint());
    return std::nullopt;
  }
}

bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr == "::1" || addr.rfind("127.", 0) == 0;
}

void run(const ServeArgs& a, GlobalOptions& g) {
  std::unique_ptr<watch::Watcher> watcher;
  if (!a.watch.empty()) {
    std::error_code ec;
    if (!fs::is_directory(a.watch, ec))
      throw Error(fmt::format("--watch {}: not a directory", a.watch), "pass the rootfs that DIR is an export of");
    fs::create_directories(a.dir, ec);
    watch::Options wo;
    wo.ignore_paths.push_back(fs::absolute(a.dir));  // DIR may sit inside ROOTFS
    watcher = std::make_unique<watch::Watcher>(wo);
    watcher->add_root("rootfs", a.watch);
    // Serve an export that is up to date from the first request on.
    v86::ExportOptions eo;
    eo.source = a.watch;
    eo.out = a.dir;
    eo.zstd_level = a.zstd;
    v86::run_export(eo);
  }
  serve::ServerOptions so;
  so.dir = a.dir;
  so.bind = a.bind;
  so.port = a.port;
  so.live_reload = watcher != nullptr;
  serve::Server server(so);
  int port = server.bind();
  std::string host = a.bind.find(':') != std::string::npos ? "[" + a.bind + "]" : a.bind;
  std::string url = fmt::format("http://{}:{}/", host, port);
  if (!is_loopback(a.bind))
    log::warn("serving on {}: anyone who can reach this address can read {}", a.bind, a.dir);
  if (g.json)
    fmt::print("{}\n", nlohmann::json{{"url", url}, {"port", port}, {"dir", a.dir}, {"watch", a.watch}}.dump());
  else
    fmt::print("serving {} at {}\n", a.dir, url);
  std::fflush(stdout);

  SignalPipe signals;
  std::thread http([&] { server.run(); });
  if (watcher) {
    while (watcher->next(signals.fd())) {
      if (auto why = reexport(a)) server.notify_reload(*why);
    }
  } else {
    pollfd p{signals.fd(), POLLIN, 0};
    while (::poll(&p, 1, -1) < 0 && errno == EINTR) {}
  }
  server.stop();
  http.join();
  auto s = server.stats();
  log::notice("served {} requests ({} client errors, {} server errors, {} bytes of files)", s.requests,
              s.client_errors, s.server_errors, s.bytes);
  g.exit_code = static_cast<int>(ExitCode::interrupted);
}

} // namespace

void add_serve_command(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand("serve",
      "Serve an export or a v86 bundle (DIR) over HTTP for the browser: read-only, nothing\n"
      "outside DIR, the headers v86 needs. With --watch ROOTFS, DIR is kept an export of ROOTFS\n"
      "and open pages reload after each change.");
  cmd->add_option("DIR", a->dir, "The directory to serve: `quickboot export ... --out DIR [--kernel ID]`")->required();
  cmd->add_option("--bind", a->bind, "The address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 for all)");
  cmd->add_option("--port", a->port, "The TCP port (0: any free port; the URL is printed)")
      ->check(CLI::Range(0, 65535))->default_str("8086");
  cmd->add_option("--watch", a->watch, "Re-export ROOTFS into DIR on every change (incrementally) and reload open pages");
  cmd->add_option("--zstd", a->zstd, "With --watch: zstd-compress blobs at this level")->expected(0, 1)->default_str("19");
  cmd->footer(
      "Headers: .wasm as application/wasm, .json, .js, .html by type; blobs named after their\n"
      "SHA-256 (*.bin, *.bin.zst) are cached as immutable for a year; fs.json, index.html and the\n"
      "rest are re-validated on every load (ETag). Range requests get 206, or 416 past the end.\n"
      "Paths with '..', hidden names (DIR/.quickboot) and symlinks are refused (400, 404, 403).\n"
      "The page's live-reload stream is GET /.quickboot/events (Server-Sent Events).\n\n"
      "Runs until Ctrl-C (exit code 130), then prints how many requests it served.\n\n"
      "Examples:\n"
      "  quickboot export ./rootfs --out site --kernel 6.1.0-28-686 && quickboot serve site\n"
      "  quickboot serve site --port 0 --json          (prints {\"url\": ..., \"port\": ...})\n"
      "  quickboot serve site --watch ./rootfs         (edit, and the browser reboots the tree)");
  cmd->callback([a, &g] {
    if (a->zstd < 0) a->zstd = 19;
    run(*a, g);
  });
}

} // namespace qb::cli
