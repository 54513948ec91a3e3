#include "qemu/console_tail.hpp"

#include <unistd.h>

namespace qb::qemu {

namespace {
constexpr std::size_t kKeptLines = 30;
constexpr std::size_t kKeptFailures = 10;

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }
} // namespace

std::string_view console_input_wait(std::string_view line) {
  // busybox ash's first words as an interactive shell on a console that is no terminal.
  if (contains(line, "can't access tty; job control turned off"))
    return "the guest's initramfs started an interactive shell";
  for (std::string_view m : {"You are in emergency mode", "You are in rescue mode",
                             "Cannot open access to console, the root account is locked",
                             "Give root password for maintenance"})
    if (contains(line, m))
      return "systemd entered emergency mode (a unit the boot needs failed) and waits for input on the console";
  return {};
}

void ConsoleTail::feed(std::string_view data) {
  if (echo_) (void)!::write(2, data.data(), data.size());
  for (char c : data) {
    const bool control = static_cast<unsigned char>(c) < 0x20;
    // A control byte (a newline) ends a sequence cut short and counts as itself.
    if (escape_ != Escape::none && control && c != '\x1b') escape_ = Escape::none;
    if (escape_ == Escape::csi) {  // parameters up to the final byte
      if (c >= 0x40 && c <= 0x7e) escape_ = Escape::none;
      continue;
    }
    if (escape_ == Escape::esc) {
      escape_ = c == '[' ? Escape::csi : Escape::none;
      if (c != '\x1b') continue;
    }
    if (c == '\x1b') escape_ = Escape::esc;
    else if (c == '\n') flush_line();
    else if (c != '\r') partial_ += c;
  }
}

void ConsoleTail::flush_line() {
  if (on_line) on_line(partial_);
  if (fatal_.empty() && contains(partial_, "quickboot-init: FATAL: "))
    fatal_ = partial_.substr(partial_.find("FATAL: ") + 7);
  if (panic_.empty() && contains(partial_, "Kernel panic")) panic_ = partial_;
  if (waiting_.empty()) waiting_ = std::string(console_input_wait(partial_));
  if ((contains(partial_, "[FAILED]") || contains(partial_, "Dependency failed for")) && failures_.size() < kKeptFailures)
    failures_.push_back(partial_);
  lines_.push_back(std::move(partial_));
  partial_.clear();
  if (lines_.size() > kKeptLines) lines_.pop_front();
}

std::string ConsoleTail::tail(std::size_t n) const {
  std::string s;
  std::size_t start = lines_.size() > n ? lines_.size() - n : 0;
  for (std::size_t i = start; i < lines_.size(); ++i) s += "  | " + lines_[i] + "\n";
  if (!partial_.empty()) s += "  | " + partial_ + "\n";
  return s;
}

std::string ConsoleTail::explain(bool restored) const {
  if (!lines_.empty() || !partial_.empty()) return "last console lines:\n" + tail();
  return restored ? "the console printed nothing after the boot snapshot was restored (the kernel's own boot "
                    "was in the snapshot, and `quiet` silences the rest)"
                  : "the console printed nothing (`quiet` is on the kernel command line)";
}

std::string ConsoleTail::failures() const {
  std::string s;
  for (const auto& l : failures_) s += "  | " + l + "\n";
  return s;
}

} // namespace qb::qemu
