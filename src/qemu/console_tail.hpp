#pragma once
// What a guest's serial console said, read line by line on the host: the last lines
// (to explain a failure), the markers quickboot's runtime prints, and whether the guest
// now waits for input on a console that `run` and `watch` cannot type into.
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace qb::qemu {

// Why a console line means the guest waits for console input, or "" when it does not:
// busybox's interactive shell without a terminal (an initramfs asked for a shell), or
// systemd's emergency and rescue modes (sulogin asks for the root password, or for
// Enter when root is locked).
std::string_view console_input_wait(std::string_view line);

class ConsoleTail {
public:
  // echo: copy every byte to stderr as it comes (`run -v`).
  explicit ConsoleTail(bool echo) : echo_(echo) {}

  // Bytes as QEMU's serial port gave them. Terminal escape sequences (systemd's
  // "[\e[0;1;31mFAILED\e[0m]") are dropped: lines are matched against plain words and
  // quoted in error messages.
  void feed(std::string_view data);
  // Ends the current partial line (at the end of a boot).
  void flush_line();
  // Called with each complete console line.
  std::function<void(const std::string&)> on_line;

  // The last n lines, each as "  | LINE\n".
  std::string tail(std::size_t n = 15) const;
  // "last console lines:" and the lines; a guest that printed nothing (a quiet kernel,
  // or everything before the snapshot point skipped by a restore) is said so.
  std::string explain(bool restored) const;
  // The text after "quickboot-init: FATAL: " of the first such line, or "".
  const std::string& fatal() const { return fatal_; }
  // The first line that mentions "Kernel panic", or "".
  const std::string& panic() const { return panic_; }
  // Why the guest now waits for console input (console_input_wait), "" while it does not.
  const std::string& waiting_for_input() const { return waiting_; }
  // systemd's failure lines ("[FAILED] ...", "Dependency failed for ..."), the first
  // 10, each as "  | LINE\n".
  std::string failures() const;

private:
  enum class Escape { none, esc, csi };
  Escape escape_ = Escape::none;
  bool echo_;
  std::string partial_, fatal_, panic_, waiting_;
  std::deque<std::string> lines_;
  std::vector<std::string> failures_;
};

} // namespace qb::qemu
