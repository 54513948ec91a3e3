#include "core/signals.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
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
} // namespace

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
