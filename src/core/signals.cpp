#include "core/signals.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>
#include <cerrno>

#include "core/error.hpp"

namespace qb {

namespace {
int g_pipe[2] = {-1, -1};
int g_refs = 0;  // nested SignalPipes share one pipe and one set of handlers
std::atomic<int> g_signal{0};
struct sigaction g_old[3];
constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGHUP};

void on_signal(int sig) {
  int saved = errno;
  g_signal = sig;
  char c = 1;
  (void)!::write(g_pipe[1], &c, 1);
  errno = saved;
}
// install_cleanup_on_signals: the handler only writes the signal number to this pipe.
int g_cleanup_pipe[2] = {-1, -1};
std::mutex g_scratch_mutex;
std::vector<std::filesystem::path>& scratch_dirs() {
  static std::vector<std::filesystem::path> dirs;
  return dirs;
}

void on_fatal_signal(int sig) {
  int saved = errno;
  unsigned char c = static_cast<unsigned char>(sig);
  (void)!::write(g_cleanup_pipe[1], &c, 1);
  errno = saved;
}

[[noreturn]] void cleanup_and_die(int sig) {
  std::vector<std::filesystem::path> dirs;
  {
    std::lock_guard lock(g_scratch_mutex);
    dirs = scratch_dirs();
  }
  for (const auto& d : dirs) {
    // The main thread may still be writing into it: a few rounds catch late arrivals.
    for (int round = 0; round < 5; ++round) {
      std::error_code ec;
      std::filesystem::remove_all(d, ec);
      if (!ec) break;
    }
  }
  ::signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  ::kill(::getpid(), sig);  // the process ends as the signal's default says (130 for SIGINT)
  ::_exit(128 + sig);
}

} // namespace

void install_cleanup_on_signals() {
  if (g_cleanup_pipe[0] >= 0) return;
  if (::pipe2(g_cleanup_pipe, O_CLOEXEC) != 0) throw Error::from_errno("cannot create", "signal pipe");
  // The thread must never take these signals itself: block them while it is created so
  // it inherits the mask, then unblock in the main thread.
  sigset_t set, old;
  sigemptyset(&set);
  for (int s : kSignals) sigaddset(&set, s);
  ::pthread_sigmask(SIG_BLOCK, &set, &old);
  std::thread([] {
    unsigned char c = 0;
    while (::read(g_cleanup_pipe[0], &c, 1) < 0 && errno == EINTR) {
    }
    cleanup_and_die(c);
  }).detach();
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  struct sigaction sa{};
  sa.sa_handler = on_fatal_signal;
  sigemptyset(&sa.sa_mask);
  for (int s : kSignals) {
    struct sigaction prev{};
    ::sigaction(s, nullptr, &prev);
    if (prev.sa_handler == SIG_IGN) continue;  // e.g. nohup: stay ignored
    ::sigaction(s, &sa, nullptr);
  }
}

void register_scratch(const std::filesystem::path& dir) {
  std::lock_guard lock(g_scratch_mutex);
  scratch_dirs().push_back(dir);
}

void forget_scratch(const std::filesystem::path& dir) {
  std::lock_guard lock(g_scratch_mutex);
  auto& v = scratch_dirs();
  v.erase(std::remove(v.begin(), v.end(), dir), v.end());
}

SignalPipe::SignalPipe() {
  if (g_refs++ > 0) return;
  if (::pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) throw Error::from_errno("cannot create", "signal pipe");
  g_signal = 0;
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &sa, &g_old[i]);
}

SignalPipe::~SignalPipe() {
  if (--g_refs > 0) return;
  for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &g_old[i], nullptr);
  ::close(g_pipe[0]);
  ::close(g_pipe[1]);
  g_pipe[0] = g_pipe[1] = -1;
}

int SignalPipe::fd() const { return g_pipe[0]; }
int SignalPipe::received() const { return g_signal; }

} // namespace qb
