#include "core/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/signals.hpp"

extern char** environ;

namespace qb {

namespace {

struct PipePair { int r = -1, w = -1; };

PipePair make_pipe() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw Error::from_errno("cannot create a pipe for", "child process");
  return {p[0], p[1]};
}

} // namespace

Process::Process(const ProcessOptions& o) : group_(o.new_process_group) {
  if (o.argv.empty()) throw Error("internal: empty argv");
  PipePair in, out, err, exec_err = make_pipe();
  if (o.in == Stdio::pipe) in = make_pipe();
  if (o.out == Stdio::pipe) out = make_pipe();
  if (o.err == Stdio::pipe) err = make_pipe();

  std::vector<char*> argv;
  for (auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_store;
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) envp.push_back(*e);
  for (auto& e : o.extra_env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) throw Error::from_errno("cannot fork to run", o.argv[0]);
  if (pid == 0) {
    // Child: only async-signal-safe calls from here on.
    if (o.new_process_group) ::setpgid(0, 0);
    if (o.die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
    }
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    auto redirect = [](Stdio mode, int pipe_end, int target, int flags) {
      if (mode == Stdio::pipe) ::dup2(pipe_end, target);
      else if (mode == Stdio::null) {
        int n = ::open("/dev/null", flags);
        if (n >= 0) { ::dup2(n, target); ::close(n); }
      }
    };
    redirect(o.in, in.r, 0, O_RDONLY);
    redirect(o.out, out.w, 1, O_WRONLY);
    redirect(o.err, err.w, 2, O_WRONLY);
    if (!o.cwd.empty() && ::chdir(o.cwd.c_str()) != 0) {
      int e = errno;
      (void)!::write(exec_err.w, &e, sizeof e);
      ::_exit(127);
    }
    ::execvpe(argv[0], argv.data(), envp.data());
    int e = errno;
    (void)!::write(exec_err.w, &e, sizeof e);
    ::_exit(127);
  }
  pid_ = pid;
  if (o.new_process_group) ::setpgid(pid, pid);  // also from the parent: no race with kill()
  register_child(o.new_process_group ? -pid : pid);  // killed first if a signal ends us
  ::close(exec_err.w);
  auto close_if = [](int fd) { if (fd >= 0) ::close(fd); };
  close_if(in.r); close_if(out.w); close_if(err.w);
  in_.reset(in.w); out_.reset(out.r); err_.reset(err.r);
  int e = 0;
  ssize_t n;
  do n = ::read(exec_err.r, &e, sizeof e); while (n < 0 && errno == EINTR);
  ::close(exec_err.r);
  if (n == sizeof e) {
    wait();
    pid_ = -1;
    throw Error(fmt::format("cannot run {}: {}", o.argv[0], std::strerror(e)),
                e == ENOENT ? fmt::format("install {} or put it on PATH", o.argv[0]) : std::string());
  }
}

Process::Process(Process&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), group_(o.group_), status_(o.status_), in_(std::move(o.in_)),
      out_(std::move(o.out_)), err_(std::move(o.err_)) {}

Process::~Process() { terminate(); }

std::optional<int> Process::try_wait() {
  if (status_ || pid_ <= 0) return status_;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = st;
    forget_child(group_ ? -pid_ : pid_);
  }
  return status_;
}

int Process::wait() {
  if (status_) return *status_;
  int st = 0;
  pid_t r;
  do r = ::waitpid(pid_, &st, 0); while (r < 0 && errno == EINTR);
  status_ = st;
  forget_child(group_ ? -pid_ : pid_);
  return st;
}

void Process::terminate(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  if (!try_wait()) {
    pid_t target = group_ ? -pid_ : pid_;
    ::kill(target, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (!try_wait() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!try_wait()) {
      ::kill(target, SIGKILL);
      wait();
    }
  }
  // Anything the child left in its group (helpers of QEMU) goes too.
  if (group_) ::kill(-pid_, SIGKILL);
}

CaptureResult run_capture(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                          std::chrono::milliseconds timeout) {
  ProcessOptions o;
  o.argv = argv;
  o.cwd = cwd;
  o.in = Stdio::null;
  o.out = Stdio::pipe;
  o.err = Stdio::pipe;
  o.new_process_group = timeout.count() > 0;
  Process p(o);
  CaptureResult r{};
  pollfd fds[2] = {{p.stdout_fd(), POLLIN, 0}, {p.stderr_fd(), POLLIN, 0}};
  std::string* bufs[2] = {&r.out, &r.err};
  int open_count = 2;
  char buf[65536];
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (open_count > 0) {
    int wait_ms = -1;
    if (timeout.count() > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        r.timed_out = true;
        p.terminate();
        break;
      }
      wait_ms = static_cast<int>(std::min<long long>(left.count(), 1000));
    }
    if (::poll(fds, 2, wait_ms) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) bufs[i]->append(buf, static_cast<std::size_t>(n));
      else if (n == 0 || errno != EINTR) { fds[i].fd = -1; --open_count; }
    }
  }
  int st = p.wait();
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

} // namespace qb
