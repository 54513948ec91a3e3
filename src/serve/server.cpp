#include "serve/server.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include <httplib.h>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/log.hpp"
#include "serve/http_policy.hpp"
#include "serve/open_beneath.hpp"

namespace qb::serve {

namespace {

constexpr std::string_view kEventsPath = "/.quickboot/events";
constexpr std::size_t kChunk = 256 * 1024;

void plain(httplib::Response& res, int status, std::string_view text) {
  res.status = status;
  res.headers.clear();  // an error says nothing about the file's caching or validators
  res.set_header("Cache-Control", "no-store");
  res.set_content(std::string(text) + "\n", "text/plain; charset=utf-8");
}

// The request path as it may be echoed in an error body: control bytes (a decoded %00,
// a newline) become '?'.
std::string printable(std::string_view path) {
  std::string s(path.substr(0, 200));
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return s;
}

// cpp-httplib 0.11 listens with a backlog of 5: 200 clients connecting at once overflow
// it, and the dropped SYNs are retried after 1 s, then 3 s (bench/serve.sh: p99 3.6 s).
// Calling listen() again on the bound socket raises the backlog; the socket is only
// reachable from a subclass.
struct HttpServer : httplib::Server {
  void raise_backlog() { ::listen(svr_sock_, SOMAXCONN); }
};

} // namespace

struct Server::Impl {
  ServerOptions o;
  Fd root;
  HttpServer http;
  std::mutex mu;
  std::condition_variable cv;
  std::uint64_t generation = 0;  // bumped by notify_reload
  std::string last_reason;
  bool stopping = false;
  std::atomic<std::uint64_t> requests{0}, client_errors{0}, server_errors{0}, bytes{0};

  void serve_file(const httplib::Request& req, httplib::Response& res) {
    // cpp-httplib 0.11 slices every response by the request's Range itself, without
    // checking it against the length (a range past the end underflows). Ranges are
    // answered here instead, so its own pass must see none.
    const_cast<httplib::Request&>(req).ranges.clear();
    auto opened = open_beneath(root.get(), req.path);
    if (auto* r = std::get_if<Refusal>(&opened)) {
      if (r->status == 301) {
        res.set_redirect(r->reason, 301);
        return;
      }
      return plain(res, r->status, fmt::format("{} {}: {}", r->status, printable(req.path), r->reason));
    }
    auto& f = std::get<Opened>(opened);
    auto size = static_cast<std::uint64_t>(f.st.st_size);
    std::string tag = etag(f.st);
    res.set_header("Cache-Control", std::string(cache_control(f.name)));
    res.set_header("ETag", tag);
    res.set_header("Accept-Ranges", "bytes");
    if (req.has_header("If-None-Match") && req.get_header_value("If-None-Match") == tag) {
      res.status = 304;
      return;
    }
    std::uint64_t first = 0, length = size;
    res.status = 200;
    // If-Range with another validator: the file changed, so the whole new one is sent.
    bool range_applies = req.has_header("Range") &&
                         (!req.has_header("If-Range") || req.get_header_value("If-Range") == tag);
    if (range_applies) {
      if (auto r = parse_range(req.get_header_value("Range"), size)) {
        if (r->unsatisfiable) {
          plain(res, 416, fmt::format("416 {}: the range lies past the end ({} bytes)", printable(req.path), size));
          res.set_header("Content-Range", fmt::format("bytes */{}", size));
          return;
        }
        first = r->range.first;
        length = r->range.length;
        res.status = 206;
        res.set_header("Content-Range", fmt::format("bytes {}-{}/{}", first, first + length - 1, size));
      }
    }
    std::string type(content_type(f.name));
    if (length == 0) {
      res.set_content("", type);
      return;
    }
    auto fd = std::make_shared<Fd>(std::move(f.fd));
    res.set_content_provider(
        length, type, [this, fd, first](std::size_t off, std::size_t want, httplib::DataSink& sink) {
          // One buffer per call, not per server: calls run on many threads at once.
          std::string buf(std::min(want, kChunk), '\0');
          ssize_t n = ::pread(fd->get(), buf.data(), buf.size(), static_cast<off_t>(first + off));
          // A file that shrank under us ends the response short; the client sees it.
          if (n <= 0) return false;
          bytes += static_cast<std::uint64_t>(n);
          // false when the client went away mid-file: the connection is dropped.
          return sink.write(buf.data(), static_cast<std::size_t>(n));
        });
  }

  void serve_events(const httplib::Request&, httplib::Response& res) {
    if (!o.live_reload) {
      // 204 tells EventSource not to reconnect: nothing here will ever change.
      res.status = 204;
      return;
    }
    res.set_header("Cache-Control", "no-store");
    std::uint64_t seen;
    {
      std::lock_guard lk(mu);
      seen = generation;
    }
    auto state = std::make_shared<std::pair<std::uint64_t, bool>>(seen, true);
    res.set_chunked_content_provider("text/event-stream", [this, state](std::size_t, httplib::DataSink& sink) {
      if (state->second) {
        state->second = false;
        std::string_view hello = ": quickboot serve: live reload\nretry: 2000\n\n";
        return sink.write(hello.data(), hello.size());
      }
      std::unique_lock lk(mu);
      // The comment line every 15 s finds clients that went away (the write fails).
      cv.wait_for(lk, std::chrono::seconds(15), [&] { return stopping || generation != state->first; });
      if (stopping) return false;
      std::string msg = ": still here\n\n";
      if (generation != state->first) {
        state->first = generation;
        msg = fmt::format("event: reload\ndata: {}\n\n", last_reason);
      }
      lk.unlock();
      return sink.write(msg.data(), msg.size());
    });
  }
};

Server::Server(ServerOptions o) : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  m.o = std::move(o);
  m.root.reset(::open(m.o.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!m.root)
    throw Error::from_errno("cannot open the directory to serve", m.o.dir,
                            "pass an export directory (quickboot export ... --out DIR)");
  unsigned n = m.o.threads ? m.o.threads : std::max(256u, 16 * std::thread::hardware_concurrency());
  // Each keep-alive connection and each open event stream holds a thread for as long as
  // it lasts: with fewer threads than clients, the rest wait for a whole connection to
  // end (bench/serve.sh, 200 clients on 64 threads: p99 4.7 s; on 256: see README).
  // Idle threads cost only their stacks' address space.
  m.http.new_task_queue = [n] { return new httplib::ThreadPool(n); };
  m.http.set_keep_alive_max_count(1000);
  m.http.set_keep_alive_timeout(5);
  m.http.set_read_timeout(10);
  m.http.set_write_timeout(30);
  m.http.set_tcp_nodelay(true);
  // cpp-httplib's default also sets SO_REUSEPORT, which lets a second server bind the same
  // port and take half the requests; a port in use must be an error instead.
  m.http.set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  m.http.set_default_headers({{"X-Content-Type-Options", "nosniff"}});
  m.http.Get(".*", [&m](const httplib::Request& req, httplib::Response& res) {
    if (req.path == kEventsPath) return m.serve_events(req, res);
    m.serve_file(req, res);
  });
  m.http.set_exception_handler([&m](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
    log::warn("serve: internal error on {}", printable(req.path));
    plain(res, 500, "500 internal error");
    (void)m;
  });
  m.http.set_logger([&m](const httplib::Request& req, const httplib::Response& res) {
    ++m.requests;
    if (res.status >= 500) ++m.server_errors;
    else if (res.status >= 400) ++m.client_errors;
    log::debug("serve: {} {} {} {}", req.method, printable(req.path), res.status, req.get_header_value("Range"));
  });
}

Server::~Server() { stop(); }

int Server::bind() {
  auto& m = *impl_;
  errno = 0;
  int port = m.o.port == 0 ? m.http.bind_to_any_port(m.o.bind) : (m.http.bind_to_port(m.o.bind, m.o.port) ? m.o.port : -1);
  if (port < 0)
    throw Error(fmt::format("cannot listen on {} port {}{}{}", m.o.bind, m.o.port, errno ? ": " : "",
                            errno ? std::strerror(errno) : ""),
                "pick another --port (--port 0 takes any free one), or a --bind address of this machine");
  m.http.raise_backlog();
  return port;
}

void Server::run() { impl_->http.listen_after_bind(); }

void Server::stop() {
  auto& m = *impl_;
  {
    std::lock_guard lk(m.mu);
    m.stopping = true;
  }
  m.cv.notify_all();
  m.http.stop();
}

void Server::notify_reload(std::string_view why) {
  auto& m = *impl_;
  {
    std::lock_guard lk(m.mu);
    ++m.generation;
    m.last_reason = std::string(why);
    // One SSE data line: a newline would end it early.
    std::replace(m.last_reason.begin(), m.last_reason.end(), '\n', ' ');
  }
  m.cv.notify_all();
}

ServerStats Server::stats() const {
  auto& m = *impl_;
  return {m.requests, m.client_errors, m.server_errors, m.bytes};
}

} // namespace qb::serve
