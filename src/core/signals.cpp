#include "core/signals.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

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

// Before the scratch directories go, every other thread is parked in this handler:
// a thread still unpacking a package recreated a directory just removed (CI saw a
// .add-* survive a SIGHUP). A parked thread finishes the system call it is in, then
// never runs our code again; the process ends with the signal a moment later.
std::atomic<int> g_parked{0};
int park_signal() { return SIGRTMIN + 2; }

void park_thread(int) {
  g_parked.fetch_add(1);
  for (;;) ::pause();
}

// io_uring's worker threads belong to the process but never run a signal handler.
bool is_io_worker(const char* tid) {
  char path[320], comm[32] = {};
  std::snprintf(path, sizeof path, "/proc/self/task/%s/comm", tid);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = ::read(fd, comm, sizeof comm - 1);
  ::close(fd);
  return n > 0 && std::strncmp(comm, "iou-", 4) == 0;
}

// Directory entries of an open directory, read with getdents64 into a caller's buffer:
// nothing below allocates, since a parked thread may hold a malloc lock (glibc's
// fork() holds them all while it copies the process).
struct Dirent64 {
  ino64_t d_ino;
  off64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[256];  // as glibc declares it; the kernel writes only up to its NUL
};
template <typename F>
void for_each_entry(int dir_fd, F&& f) {
  alignas(8) char buf[2048];
  for (;;) {
    long n = ::syscall(SYS_getdents64, dir_fd, buf, sizeof buf);
    if (n <= 0) return;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<Dirent64*>(buf + off);
      off += d->d_reclen;
      if (std::strcmp(d->d_name, ".") != 0 && std::strcmp(d->d_name, "..") != 0) f(d->d_name);
    }
  }
}

// Parks every thread but the caller. New threads may appear while we look, so the
// task list is read again until it holds none we have not signalled. A thread that
// does not answer within a second (blocked in the kernel) is not waited for longer.
void park_other_threads() {
  const pid_t self = static_cast<pid_t>(::syscall(SYS_gettid));
  const pid_t pid = ::getpid();
  static pid_t signalled[4096];
  int count = 0;
  for (int pass = 0; pass < 5; ++pass) {
    bool found_new = false;
    int dir = ::open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return;
    for_each_entry(dir, [&](const char* name) {
      pid_t tid = static_cast<pid_t>(std::atoi(name));
      if (tid <= 0 || tid == self || std::find(signalled, signalled + count, tid) != signalled + count ||
          is_io_worker(name) || count == 4096)
        return;
      if (::syscall(SYS_tgkill, pid, tid, park_signal()) == 0) {
        signalled[count++] = tid;
        found_new = true;
      }
    });
    ::close(dir);
    if (!found_new) return;
    for (int i = 0; i < 100 && g_parked.load() < count; ++i) ::usleep(10'000);
  }
}

// remove_all without allocating: unlinkat, and for a directory its entries first
// (read again until none is left). Symlinks are removed, never followed.
void remove_tree(int parent_fd, const char* name, int depth) {
  if (::unlinkat(parent_fd, name, 0) == 0 || errno == ENOENT) return;
  if (depth > 128) return;
  int fd = ::openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  for (int round = 0; round < 5; ++round) {
    bool any = false;
    for_each_entry(fd, [&](const char* child) {
      any = true;
      remove_tree(fd, child, depth + 1);
    });
    if (!any) break;
    ::lseek(fd, 0, SEEK_SET);
  }
  ::close(fd);
  ::unlinkat(parent_fd, name, AT_REMOVEDIR);
}

// Child processes (install hooks, depmod, QEMU outside a VM loop) in their own process
// groups are not reached by a terminal's SIGINT, and would go on writing into a scratch
// directory; they are killed first. Slots: the kill target, -pgid or pid; 0 when free.
std::atomic<pid_t> g_children[256];

[[noreturn]] void cleanup_and_die(int sig) {
  // Held until the end: a thread parked inside register_scratch would otherwise hold it.
  std::unique_lock lock(g_scratch_mutex);
  // Copied while no thread is parked yet: from here on nothing may allocate.
  std::vector<std::string> dirs;
  for (const auto& d : scratch_dirs()) dirs.push_back(d.string());
  for (auto& c : g_children)
    if (pid_t target = c.load(); target != 0) ::kill(target, SIGKILL);
  park_other_threads();
  for (const auto& d : dirs) remove_tree(AT_FDCWD, d.c_str(), 0);
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
    // Allocating now gives this thread a malloc arena of its own, which no thread
    // parked later can be holding locked.
    std::vector<std::filesystem::path> warm(16);
    unsigned char c = 0;
    while (::read(g_cleanup_pipe[0], &c, 1) < 0 && errno == EINTR) {
    }
    cleanup_and_die(c);
  }).detach();
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  struct sigaction park{};
  park.sa_handler = park_thread;
  sigemptyset(&park.sa_mask);
  ::sigaction(park_signal(), &park, nullptr);
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

void register_child(pid_t kill_target) {
  for (auto& c : g_children) {
    pid_t expected = 0;
    if (c.compare_exchange_strong(expected, kill_target)) return;
  }
}

void forget_child(pid_t kill_target) {
  for (auto& c : g_children) {
    pid_t expected = kill_target;
    if (c.compare_exchange_strong(expected, 0)) return;
  }
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
