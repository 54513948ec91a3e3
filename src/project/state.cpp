#include "project/state.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <climits>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "core/shell_quote.hpp"
#include "core/sha256.hpp"

namespace qb::project {

fs::path state_dir(const fs::path& root) { return root / ".quickboot"; }

fs::path runtime_dir(const fs::path& root) {
  fs::path local = state_dir(root) / "tmp";
  // The longest socket QEMU gets: <runtime>/quickboot-vm.XXXXXX/qb.stderr.sock, and
  // sun_path holds 107 characters.
  if (local.string().size() + std::string("/quickboot-vm.XXXXXX/qb.stderr.sock").size() < 100) return local;
  const char* t = std::getenv("TMPDIR");
  fs::path parent = t && *t ? fs::path(t) : fs::path("/tmp");
  return parent / ("quickboot-up." + to_hex(sha256(root.string())).substr(0, 12));
}

std::optional<std::vector<std::string>> process_argv(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/cmdline", pid), std::ios::binary);
  if (!in) return std::nullopt;
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (all.empty()) return std::nullopt;  // gone, or a zombie
  std::vector<std::string> argv;
  std::size_t i = 0;
  while (i < all.size()) {
    auto j = all.find('\0', i);
    if (j == std::string::npos) j = all.size();
    argv.push_back(all.substr(i, j - i));
    i = j + 1;
  }
  return argv;
}

bool is_qemu_of(pid_t pid, const fs::path& dir) {
  if (pid <= 0) return false;
  struct stat st{};
  if (::stat(fmt::format("/proc/{}", pid).c_str(), &st) != 0 || st.st_uid != ::getuid()) return false;
  auto argv = process_argv(pid);
  if (!argv || argv->empty()) return false;
  if (fs::path((*argv)[0]).filename().string().rfind("qemu-system-", 0) != 0) return false;
  const std::string plain = dir.string() + "/", quoted = qemu_quote(plain);
  for (const auto& a : *argv)
    if (a.find(plain) != std::string::npos || a.find(quoted) != std::string::npos) return true;
  return false;
}

bool is_own_dir(const fs::path& path) {
  struct stat st{};
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::getuid();
}

namespace {
// A pid file's text, or "" when it is missing, not a regular file (a FIFO would hang an
// ifstream) or absurdly large.
std::string read_record(const fs::path& file) {
  try {
    return read_regular_file(file, 4096);
  } catch (const Error&) {
    return {};
  }
}
} // namespace

std::optional<UpRecord> read_up_record(const fs::path& state) {
  std::istringstream in(read_record(state / "up.pid"));
  UpRecord r;
  long pid = 0;
  std::string line;
  if (!(in >> pid) || pid <= 0 || pid > INT_MAX) return std::nullopt;
  r.pid = static_cast<pid_t>(pid);
  std::getline(in, line);
  if (std::getline(in, line) && !line.empty() && line.front() == '/') r.runtime = fs::path(line).lexically_normal();
  return r;
}

std::vector<pid_t> find_qemus_of(const fs::path& dir) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string n = e.path().filename().string();
    if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos) continue;
    struct stat st{};
    if (::stat(e.path().c_str(), &st) != 0 || st.st_uid != ::getuid()) continue;
    pid_t pid = static_cast<pid_t>(std::stol(n));
    if (is_qemu_of(pid, dir)) out.push_back(pid);
  }
  return out;
}

std::optional<pid_t> read_pid(const fs::path& state, const std::string& name) {
  std::istringstream in(read_record(state / name));
  long pid = 0;
  if (!(in >> pid) || pid <= 0 || pid > INT_MAX) return std::nullopt;
  return static_cast<pid_t>(pid);
}

struct RunRecord::Impl {
  fs::path state, runtime;
  std::atomic<bool> stop{false};
  std::thread watcher;
};

RunRecord::RunRecord(fs::path state, fs::path runtime) : impl_(new Impl{std::move(state), std::move(runtime), {}, {}}) {
  write_file_atomic(impl_->state / "up.pid", fmt::format("{}\n{}\n", ::getpid(), impl_->runtime.string()));
  // QEMU is started deep inside the boot code; find it by its arguments, which name
  // our runtime directory, and record it for `clean`.
  impl_->watcher = std::thread([i = impl_] {
    while (!i->stop.load()) {
      auto pids = find_qemus_of(i->runtime);
      if (!pids.empty()) {
        try {
          write_file_atomic(i->state / "qemu.pid", fmt::format("{}\n", pids.front()));
        } catch (...) {
        }
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
}

RunRecord::~RunRecord() {
  impl_->stop = true;
  if (impl_->watcher.joinable()) impl_->watcher.join();
  std::error_code ec;
  fs::remove(impl_->state / "qemu.pid", ec);
  fs::remove(impl_->state / "up.pid", ec);
  delete impl_;
}

std::vector<fs::path> stale_scratch_dirs(const fs::path& parent, int min_age_s) {
  std::vector<fs::path> candidates, out;
  std::error_code ec;
  auto now = fs::file_time_type::clock::now();
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    std::string n = e.path().filename().string();
    if (n.rfind("quickboot-vm.", 0) != 0 && n.rfind("quickboot-boot.", 0) != 0) continue;
    struct stat st{};
    if (::lstat(e.path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::getuid()) continue;
    auto mtime = fs::last_write_time(e.path(), ec);
    if (ec || now - mtime < std::chrono::seconds(min_age_s)) continue;
    candidates.push_back(e.path());
  }
  if (candidates.empty()) return out;
  // In use: a live process (QEMU: -initrd, -qmp, the port sockets) names it.
  std::vector<std::vector<std::string>> live;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string n = e.path().filename().string();
    if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos) continue;
    if (auto argv = process_argv(static_cast<pid_t>(std::stol(n)))) live.push_back(std::move(*argv));
  }
  for (const auto& d : candidates) {
    bool used = false;
    for (const auto& argv : live)
      for (const auto& a : argv)
        if (a.find(d.string() + "/") != std::string::npos) used = true;
    if (!used) out.push_back(d);
  }
  return out;
}

} // namespace qb::project
