#pragma once
// Turns SIGINT, SIGTERM and SIGHUP into a readable fd for poll() loops, while alive.
// The previous handlers come back in the destructor. Nested instances share the pipe,
// so a signal seen by an inner loop is still readable by the outer one.
#include <sys/types.h>

#include <csignal>
#include <filesystem>

namespace qb {

class SignalPipe {
public:
  SignalPipe();
  ~SignalPipe();
  SignalPipe(const SignalPipe&) = delete;
  SignalPipe& operator=(const SignalPipe&) = delete;

  int fd() const;          // readable once a signal arrived
  int received() const;    // the last signal number, 0 if none
};

// Called once at the start of main: from then on SIGINT, SIGTERM and SIGHUP that no
// SignalPipe takes remove every scratch directory still registered (make_temp_dir
// registers, remove_all_quiet forgets), then end the process with that signal as
// before. Without it a signal in the first seconds of a boot, during an export or a
// `kernel add` left quickboot-boot.*, quickboot-vm.* or a 239 MB .add-* behind. The
// work runs on a thread of its own, not in the handler (remove_all is not
// async-signal-safe); it first parks every other thread (a real-time signal), so none
// recreates a directory it has just removed. Child processes die with us
// (PR_SET_PDEATHSIG).
void install_cleanup_on_signals();

// Scratch directories, and temporary files not yet renamed into place (AtomicFile),
// removed on such a signal.
void register_scratch(const std::filesystem::path& dir);
void forget_scratch(const std::filesystem::path& dir);

// Child processes killed (SIGKILL) before the scratch directories are removed, so none
// writes into them afterwards. kill_target: -pgid for a child in its own group, else
// its pid. Process registers and forgets its children.
void register_child(pid_t kill_target);
void forget_child(pid_t kill_target);

} // namespace qb
