#pragma once
// A child process in its own process group, killed with its parent (PR_SET_PDEATHSIG)
// and ended (SIGTERM to the group, then SIGKILL) by the destructor, so neither an error
// nor a signal leaves a QEMU running behind quickboot.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/fd.hpp"

namespace qb {

enum class Stdio { inherit, null, pipe };

struct ProcessOptions {
  std::vector<std::string> argv;
  std::vector<std::string> extra_env;      // NAME=VALUE added to the environment
  std::filesystem::path cwd;               // empty: inherit
  Stdio in = Stdio::inherit, out = Stdio::inherit, err = Stdio::inherit;
  bool new_process_group = true;           // so Ctrl-C on the terminal reaches us, not it
  bool die_with_parent = true;
};

class Process {
public:
  // Throws Error when the program cannot be started (names argv[0] and the cause).
  explicit Process(const ProcessOptions& opts);
  Process(Process&&) noexcept;
  Process& operator=(Process&&) = delete;
  Process(const Process&) = delete;
  ~Process();

  pid_t pid() const { return pid_; }
  int stdin_fd() const { return in_.get(); }
  int stdout_fd() const { return out_.get(); }
  int stderr_fd() const { return err_.get(); }
  void close_stdin() { in_.reset(); }
  void close_stdout() { out_.reset(); }
  void close_stderr() { err_.reset(); }

  // The wait status as from waitpid, or nullopt when still running.
  std::optional<int> try_wait();
  int wait();
  // SIGTERM to the group; SIGKILL after `grace`; reaps. Safe to call twice.
  void terminate(std::chrono::milliseconds grace = std::chrono::milliseconds(1500));
  bool running() const { return pid_ > 0 && !status_; }

private:
  pid_t pid_ = -1;
  bool group_ = true;
  std::optional<int> status_;
  Fd in_, out_, err_;
};

struct CaptureResult {
  int exit_code;  // -1 when killed by a signal
  std::string out, err;
  bool timed_out = false;  // stopped (with what it started) after the timeout
};
// Runs to completion capturing stdout and stderr. Throws Error when it cannot start.
// With a timeout (> 0), the program runs in its own process group, and the whole group
// is stopped when the time is up: a child left holding the pipes cannot keep us waiting.
CaptureResult run_capture(const std::vector<std::string>& argv, const std::filesystem::path& cwd = {},
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

} // namespace qb
