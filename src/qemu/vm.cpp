#include "qemu/vm.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "core/log.hpp"
#include "core/signals.hpp"

namespace qb::qemu {

namespace {

Fd listen_unix(const fs::path& path) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw Error::from_errno("cannot create a socket for", path);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.string().size() >= sizeof addr.sun_path) throw Error("socket path too long: " + path.string(), "set TMPDIR to a shorter directory");
  std::strcpy(addr.sun_path, path.c_str());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd.get(), 1) != 0)
    throw Error::from_errno("cannot listen on", path);
  return fd;
}

fs::path runtime_parent() {
  const char* t = std::getenv("TMPDIR");
  return t && *t ? fs::path(t) : fs::path("/tmp");
}

} // namespace

Vm::Vm(VmConfig config, std::vector<std::string> ports) : config_(std::move(config)) {
  dir_ = make_temp_dir(runtime_parent(), "quickboot-vm");
  try {
    config_.qmp_socket = dir_ / "qmp.sock";
    for (const auto& name : ports) {
      fs::path sock = dir_ / (name + ".sock");
      listeners_.emplace_back(name, listen_unix(sock));
      config_.serial_ports.emplace_back(name, sock);
    }
  } catch (...) {
    remove_all_quiet(dir_);
    throw;
  }
}

Vm::~Vm() {
  stop();
  remove_all_quiet(dir_);
}

void Vm::start() {
  ProcessOptions o;
  o.argv = build_qemu_argv(config_);
  o.argv[0] = require_qemu(config_.arch).string();
  if (config_.console == Console::interactive) {
    // QEMU must own the terminal: it stays in our process group (a background group
    // reading the tty would be stopped by SIGTTIN).
    o.new_process_group = false;
  } else {
    o.in = config_.forward_stdin ? Stdio::inherit : Stdio::null;
    o.out = Stdio::pipe;
  }
  o.err = Stdio::pipe;
  log::debug("qemu: {}", fmt::join(o.argv, " "));
  process_ = std::make_unique<Process>(o);
}

bool Vm::send(const std::string& port, std::string_view data) {
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    if (listeners_[i].first != port || i >= ports_.size() || !ports_[i]) continue;
    return ::write(ports_[i].get(), data.data(), data.size()) == static_cast<ssize_t>(data.size());
  }
  return false;
}

VmEnd Vm::run(const VmEvents& events, std::optional<std::chrono::steady_clock::time_point> deadline,
              const std::vector<ExtraFd>& extra) {
  SignalPipe signals;
  struct Source { int fd; enum { console, qemu_err, listener, port, signal, extra } kind; std::size_t index; };
  ports_.resize(listeners_.size());
  auto& ports = ports_;
  std::string qemu_errors;
  char buf[65536];
  for (;;) {
    std::vector<Source> sources;
    if (process_->stdout_fd() >= 0) sources.push_back({process_->stdout_fd(), Source::console, 0});
    if (process_->stderr_fd() >= 0) sources.push_back({process_->stderr_fd(), Source::qemu_err, 0});
    for (std::size_t i = 0; i < listeners_.size(); ++i) {
      if (ports[i]) sources.push_back({ports[i].get(), Source::port, i});
      else if (listeners_[i].second) sources.push_back({listeners_[i].second.get(), Source::listener, i});
    }
    sources.push_back({signals.fd(), Source::signal, 0});
    for (std::size_t i = 0; i < extra.size(); ++i) sources.push_back({extra[i].fd, Source::extra, i});
    std::vector<pollfd> pfds;
    for (const auto& s : sources) pfds.push_back({s.fd, POLLIN, 0});

    int timeout_ms = 200;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return VmEnd::timeout;
      timeout_ms = static_cast<int>(std::min<long>(left.count(), 200));
    }
    int n = ::poll(pfds.data(), pfds.size(), timeout_ms);
    if (n < 0 && errno != EINTR) throw Error::from_errno("poll failed on", dir_);
    bool any_open_stream = false;
    for (std::size_t k = 0; k < sources.size(); ++k) {
      const auto& s = sources[k];
      if (s.kind != Source::listener && s.kind != Source::signal && s.kind != Source::extra) any_open_stream = true;
      if (n <= 0 || !(pfds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      switch (s.kind) {
        case Source::signal: return VmEnd::interrupted;
        case Source::extra:
          if (!extra[s.index].on_readable()) return VmEnd::external;
          break;
        case Source::listener: {
          int c = ::accept4(s.fd, nullptr, nullptr, SOCK_CLOEXEC);
          if (c >= 0) {
            ports[s.index].reset(c);
            listeners_[s.index].second.reset();
          }
          break;
        }
        default: {
          ssize_t r = ::read(s.fd, buf, sizeof buf);
          if (r < 0 && errno == EINTR) break;
          if (r <= 0) {
            if (s.kind == Source::port) ports[s.index].reset();
            else if (s.kind == Source::console) process_->close_stdout();
            else process_->close_stderr();
            break;
          }
          std::string_view data(buf, static_cast<std::size_t>(r));
          if (s.kind == Source::console && events.console) events.console(data);
          else if (s.kind == Source::qemu_err) qemu_errors.append(data);
          else if (s.kind == Source::port && events.port) events.port(listeners_[s.index].first, data);
          break;
        }
      }
    }
    // Done when QEMU exited and every stream it wrote to is drained.
    if (process_->try_wait() && (n == 0 || !any_open_stream)) {
      if (!qemu_errors.empty()) {
        while (!qemu_errors.empty() && qemu_errors.back() == '\n') qemu_errors.pop_back();
        log::notice("qemu: {}", qemu_errors);
      }
      return VmEnd::exited;
    }
  }
}

void Vm::stop() {
  if (process_) process_->terminate();
}

} // namespace qb::qemu
