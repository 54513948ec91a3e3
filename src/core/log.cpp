#include "core/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace qb::log {

static std::atomic<Level> g_level{Level::normal};
static std::mutex g_mutex;
static bool g_progress_shown = false;

void set_level(Level l) { g_level = l; }
Level level() { return g_level; }

bool stderr_is_tty() {
  static const bool tty = ::isatty(2) && !std::getenv("CI");
  return tty;
}

static void clear_progress_locked() {
  if (g_progress_shown) {
    std::fputs("\r\033[K", stderr);
    g_progress_shown = false;
  }
}

void write_line(std::string_view prefix, std::string_view msg) {
  std::lock_guard lock(g_mutex);
  clear_progress_locked();
  std::string line;
  line.reserve(prefix.size() + msg.size() + 1);
  line.append(prefix).append(msg).push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

void progress(std::string_view msg) {
  if (!stderr_is_tty() || level() == Level::quiet) return;
  std::lock_guard lock(g_mutex);
  std::string line = "\r\033[K";
  line.append(msg);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
  g_progress_shown = true;
}

void progress_done() {
  std::lock_guard lock(g_mutex);
  clear_progress_locked();
}

} // namespace qb::log
