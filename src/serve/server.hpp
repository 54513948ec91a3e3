#pragma once
// `quickboot serve`'s HTTP server: the files of one directory, read-only, with the
// headers a browser running v86 needs (docs/serve.md), and a Server-Sent Events stream
// at /.quickboot/events that tells open pages to reload after a re-export.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace qb::serve {

struct ServerOptions {
  std::filesystem::path dir;
  std::string bind = "127.0.0.1";
  int port = 8086;        // 0: any free port
  unsigned threads = 0;   // 0: 256 (or 16 per core), enough for 200 parallel clients
  bool live_reload = false;  // serve the event stream (else it answers 204: no reloads)
};

struct ServerStats {
  std::uint64_t requests = 0, client_errors = 0, server_errors = 0, bytes = 0;
};

class Server {
public:
  // Throws Error when DIR cannot be opened as a directory.
  explicit Server(ServerOptions o);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the socket; returns the port (the chosen one for port 0). Throws Error.
  int bind();
  // Serves until stop(); call after bind(), typically on its own thread.
  void run();
  // Thread-safe; ends open event streams, then run() returns.
  void stop();
  // Sends a "reload" event (data: `why`) to every page listening on the event stream.
  void notify_reload(std::string_view why);

  ServerStats stats() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace qb::serve
