#include <catch2/catch.hpp>

#include "qemu/console_tail.hpp"

using namespace qb::qemu;

TEST_CASE("console tail: colour codes are dropped, also when a sequence is split across reads") {
  ConsoleTail c(false);
  // systemd's status line as the serial port delivers it, cut in the middle of an escape.
  c.feed("[\x1b[0;1;31mFAI");
  c.feed("LED\x1b[0m] Failed to mount \x1b[0;1;39mmnt-x.mount\x1b");
  c.feed("[0m - /mnt/x.\r\n");
  c.feed("[\x1b[0;1;38;5;185mDEPEND\x1b[0m] Dependency failed for local-fs.target.\r\n");
  CHECK(c.tail() == "  | [FAILED] Failed to mount mnt-x.mount - /mnt/x.\n"
                    "  | [DEPEND] Dependency failed for local-fs.target.\n");
  CHECK(c.failures() == c.tail());
  CHECK(c.waiting_for_input().empty());
}

TEST_CASE("console tail: systemd's emergency mode and busybox's shell mean the guest waits for input") {
  ConsoleTail sd(false);
  sd.feed("You are in emergency mode. After logging in, type \"journalctl -xb\" to view\n");
  CHECK(sd.waiting_for_input().find("emergency mode") != std::string::npos);
  ConsoleTail locked(false);
  locked.feed("Cannot open access to console, the root account is locked.\nPress Enter to continue.\n");
  CHECK(locked.waiting_for_input() == sd.waiting_for_input());
  ConsoleTail sh(false);
  sh.feed("sh: can't access tty; job control turned off\n");
  CHECK(sh.waiting_for_input().find("interactive shell") != std::string::npos);
  // Only complete lines count: a line still being written is not matched yet.
  ConsoleTail partial(false);
  partial.feed("You are in emergency mode");
  CHECK(partial.waiting_for_input().empty());
  CHECK(console_input_wait("Reached target multi-user.target").empty());
}

TEST_CASE("console tail: the runtime's FATAL line, a panic, at most 10 failures and 30 lines") {
  ConsoleTail c(false);
  c.feed("quickboot-init: FATAL: no init in the root\nKernel panic - not syncing: Attempted to kill init!\n");
  CHECK(c.fatal() == "no init in the root");
  CHECK(c.panic() == "Kernel panic - not syncing: Attempted to kill init!");
  for (int i = 0; i < 40; ++i) c.feed("[FAILED] unit " + std::to_string(i) + "\n");
  CHECK(c.failures().find("unit 9\n") != std::string::npos);
  CHECK(c.failures().find("unit 10\n") == std::string::npos);
  CHECK(c.tail(100).find("FATAL") == std::string::npos);  // the oldest lines are gone
  CHECK(c.tail(1) == "  | [FAILED] unit 39\n");
  CHECK(ConsoleTail(false).explain(true).find("snapshot was restored") != std::string::npos);
}

TEST_CASE("console tail: a newline inside a cut-short escape sequence still ends the line") {
  ConsoleTail c(false);
  c.feed("first\x1b[0;1\nYou are in emergency mode\n");
  CHECK(c.tail() == "  | first\n  | You are in emergency mode\n");
  CHECK_FALSE(c.waiting_for_input().empty());
  ConsoleTail e(false);
  e.feed("a\x1b\nb\x1b\x1b[31mc\n");
  CHECK(e.tail() == "  | a\n  | bc\n");
}
