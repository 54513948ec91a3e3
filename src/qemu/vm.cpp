#include "qemu/vm.hpp"

#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "core/log.hpp"
#include "core/signals.hpp"
#include "qemu/snapshot.hpp"

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

Vm::Vm(VmConfig config, std::vector<std::string> ports) : config_(std::move(config)), port_names_(std::move(ports)) {
  if (config_.snapshot_boot) {
    // The snapshot protocol's two ports, always in the same order: the saved machine
    // must have the same devices as the one restoring it.
    port_names_ = {"qb.stdout", "qb.stderr", "qb.status", "qb.control"};
  }
  dir_ = make_temp_dir(runtime_parent(), "quickboot-vm");
  try {
    config_.qmp_socket = dir_ / "qmp.sock";
    open_listeners();
  } catch (...) {
    remove_all_quiet(dir_);
    throw;
  }
}

void Vm::open_listeners() {
  listeners_.clear();
  ports_.clear();
  ports_.resize(port_names_.size());
  config_.serial_ports.clear();
  pending_.assign(port_names_.size(), {});
  for (const auto& name : port_names_) {
    fs::path sock = dir_ / (name + ".sock");
    std::error_code ec;
    fs::remove(sock, ec);
    listeners_.emplace_back(name, listen_unix(sock));
    config_.serial_ports.emplace_back(name, sock);
  }
}

std::string Vm::go_line() const {
  unsigned char seed[32];
  std::string hex;
  if (::getrandom(seed, sizeof seed, 0) == static_cast<ssize_t>(sizeof seed))
    for (unsigned char b : seed) hex += fmt::format("{:02x}", b);
  return fmt::format("go {} {}\n", ::time(nullptr), hex.empty() ? "0" : hex);
}

void Vm::on_snapshot_point() {
  ready_seen_ = true;
  if (saving_) {
    std::string failure;
    auto t0 = std::chrono::steady_clock::now();
    try {
      failure = save_snapshot(config_.qmp_socket, snapshot_state_);
      // After the save, so the new snapshot is one of the three kept (docs/boot.md);
      // also removes what dead saves left.
      prune_snapshots(snapshot_state_.parent_path(), 3);
    } catch (const Error&) {
      throw;  // the VM is stuck paused: this boot cannot go on
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (failure.empty())
      log::debug("boot snapshot saved to {} in {} ms", snapshot_state_.string(),
                 std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
    else
      log::notice("boot snapshot not saved ({}); this boot goes on", failure);
  }
  go_sent_ = true;
  send("qb.control", go_line());
}

bool Vm::restore_failed(const std::string& qemu_errors) {
  // Only QEMU's own report of a failed load counts: a guest that died later (OOM, an
  // exit device) must not cost a good snapshot and run the command twice.
  if (!restoring_ || guest_spoke_ || qemu_errors.find("migration") == std::string::npos) return false;
  auto st = process_->try_wait();
  if (!st || !WIFEXITED(*st) || WEXITSTATUS(*st) == 0) return false;
  log::notice("the boot snapshot {} could not be restored ({}); booting from scratch",
              snapshot_state_.string(), qemu_errors.empty() ? "no message" : qemu_errors);
  std::error_code ec;
  fs::remove(snapshot_state_, ec);
  open_listeners();
  start();
  return true;
}

Vm::~Vm() {
  stop();
  remove_all_quiet(dir_);
}

void Vm::start() {
  restoring_ = saving_ = ready_seen_ = guest_spoke_ = go_sent_ = false;
  status_head_.clear();
  config_.incoming.clear();
  if (config_.snapshot_boot && !config_.snapshot_dir.empty()) {
    snapshot_state_ = snapshot_file(config_, config_.snapshot_dir);
    std::error_code ec;
    if (fs::exists(fs::symlink_status(snapshot_state_, ec))) {
      if (auto why = unusable_snapshot(snapshot_state_); !why.empty()) {
        // Not something quickboot saved: restoring it could only hang or fail.
        log::notice("the boot snapshot {} is {}: discarded, booting from scratch", snapshot_state_.string(), why);
        remove_all_quiet(snapshot_state_);
      }
    }
    if (fs::exists(fs::symlink_status(snapshot_state_, ec))) {
      restoring_ = ready_seen_ = go_sent_ = true;
      config_.incoming = snapshot_state_;
      touch_snapshot(snapshot_state_);
      log::debug("restoring the boot snapshot {}", snapshot_state_.string());
      // The restored guest is already waiting for this line.
      for (std::size_t i = 0; i < port_names_.size(); ++i)
        if (port_names_[i] == "qb.control") pending_[i] = go_line();
    } else {
      saving_ = true;
    }
  }
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
  // Until the go line is out, the guest waits at its snapshot point and reads nothing
  // else from qb.control: callers' messages would be taken for it.
  if (config_.snapshot_boot && !go_sent_ && port == "qb.control") return false;
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
            auto& p = pending_[s.index];
            if (!p.empty() && ::write(c, p.data(), p.size()) == static_cast<ssize_t>(p.size())) p.clear();
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
          if (s.kind != Source::qemu_err) guest_spoke_ = true;
          if (s.kind == Source::port && !ready_seen_ && listeners_[s.index].first == "qb.status") {
            // Before the snapshot point the guest says only "ready"; it is not for callers.
            status_head_.append(data);
            auto nl = status_head_.find('\n');
            if (nl == std::string::npos) break;
            std::string line = status_head_.substr(0, nl), rest = status_head_.substr(nl + 1);
            status_head_.clear();
            if (line == "ready") on_snapshot_point();
            else rest = line + "\n" + rest;
            if (!rest.empty() && events.port) events.port("qb.status", rest);
            break;
          }
          if (s.kind == Source::console && events.console) events.console(data);
          else if (s.kind == Source::qemu_err) qemu_errors.append(data);
          else if (s.kind == Source::port && events.port) events.port(listeners_[s.index].first, data);
          break;
        }
      }
    }
    if (events.stop && events.stop()) return VmEnd::external;
    // Done when QEMU exited and every stream it wrote to is drained.
    if (process_->try_wait() && (n == 0 || !any_open_stream)) {
      while (!qemu_errors.empty() && qemu_errors.back() == '\n') qemu_errors.pop_back();
      if (restore_failed(qemu_errors)) {
        qemu_errors.clear();
        continue;
      }
      if (!qemu_errors.empty()) log::notice("qemu: {}", qemu_errors);
      return VmEnd::exited;
    }
  }
}

void Vm::stop() {
  if (process_) process_->terminate();
}

} // namespace qb::qemu
