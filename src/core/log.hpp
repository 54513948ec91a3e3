#pragma once
// User-facing messages on stderr. Progress only when stderr is a terminal and not in
// CI; plain lines otherwise. Under --json, notices still go to stderr, data to stdout.
#include <string_view>

#include <fmt/format.h>

namespace qb::log {

enum class Level { quiet, normal, verbose };

void set_level(Level level);
Level level();
bool stderr_is_tty();  // false when CI is set, so CI logs stay plain

void write_line(std::string_view prefix, std::string_view msg);

template <typename... A> void info(fmt::format_string<A...> f, A&&... a) {
  if (level() != Level::quiet) write_line("", fmt::format(f, std::forward<A>(a)...));
}
template <typename... A> void notice(fmt::format_string<A...> f, A&&... a) {
  if (level() != Level::quiet) write_line("quickboot: ", fmt::format(f, std::forward<A>(a)...));
}
template <typename... A> void warn(fmt::format_string<A...> f, A&&... a) {
  write_line("quickboot: warning: ", fmt::format(f, std::forward<A>(a)...));
}
template <typename... A> void debug(fmt::format_string<A...> f, A&&... a) {
  if (level() == Level::verbose) write_line("quickboot: debug: ", fmt::format(f, std::forward<A>(a)...));
}

// A transient progress line ("\r..." on a terminal, nothing otherwise).
void progress(std::string_view msg);
void progress_done();

} // namespace qb::log
