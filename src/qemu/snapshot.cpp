#include "qemu/snapshot.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "core/paths.hpp"
#include "core/shell_quote.hpp"
#include "core/sha256.hpp"
#include "qemu/qmp.hpp"

namespace qb::qemu {

fs::path snapshot_file(const VmConfig& c, const fs::path& dir) {
  // This boot's own paths are not part of the machine: blank them before hashing.
  VmConfig k = c;
  // Whether a share is read-only is enforced on the host side only: writable and
  // protected boots share a snapshot (nothing was mounted at the snapshot point).
  for (auto& s : k.shares) {
    s.host_path.clear();
    s.read_only = true;
  }
  k.kernel = fs::absolute(k.kernel);
  k.initrd = fs::absolute(k.initrd);
  for (auto& p : k.serial_ports) p.second.clear();
  k.qmp_socket.clear();
  k.incoming.clear();
  k.snapshot_dir.clear();
  Sha256 h;
  h.update("qb-snapshot-1\n");
  for (const auto& a : build_qemu_argv(k)) h.update(a + "\n");
  h.update(file_identity(find_program(qemu_binary(c.arch))) + "\n");
  h.update(file_identity(fs::absolute(c.kernel)) + "\n" + file_identity(fs::absolute(c.initrd)) + "\n");
  return dir / (to_hex(h.finish()).substr(0, 32) + ".vmstate");
}

std::string unusable_snapshot(const fs::path& file) {
  struct stat st{};
  if (::lstat(file.c_str(), &st) != 0) return std::string("cannot be read: ") + std::strerror(errno);
  if (!S_ISREG(st.st_mode)) return std::string(file_type_name(st.st_mode));
  if (st.st_size == 0) return "empty";
  return {};
}

std::string save_snapshot(const fs::path& qmp_socket, const fs::path& file) {
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) return fmt::format("cannot create {}: {}", file.parent_path().string(), ec.message());
  // Unique across processes and PID namespaces sharing the directory; the shell QEMU
  // runs moves the file into place only when cat wrote all of it (a full disk leaves
  // the temporary file, removed by a later prune, never a truncated snapshot).
  unsigned char rnd[6] = {};
  (void)!::getrandom(rnd, sizeof rnd, 0);
  const fs::path tmp = file.string() + fmt::format(".tmp{}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}", ::getpid(), rnd[0], rnd[1],
                                                   rnd[2], rnd[3], rnd[4], rnd[5]);
  QmpClient qmp(qmp_socket);
  qmp.execute("stop");
  std::string failure;
  try {
    // QEMU throttles migration to 128 MiB/s by default (meant for a network link): a
    // local file takes it as fast as it comes.
    qmp.execute("migrate-set-parameters", {{"max-bandwidth", std::int64_t(64) << 30}});
    // sync FILE fsyncs it before the rename, sync DIR the rename itself: a crash right
    // after a save leaves the old state or the whole new one, never an empty file.
    const std::string t = shell_quote(tmp.string()), f = shell_quote(file.string());
    qmp.execute("migrate", {{"uri", "exec:cat > " + t + " && sync " + t + " && mv -f " + t + " " + f + " && sync " +
                                         shell_quote(file.parent_path().string())}});
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool cancelled = false;
    for (;;) {
      std::string status = qmp.execute("query-migrate").value("status", "");
      if (status == "completed") break;
      if (status == "failed" || status == "cancelled") {
        if (failure.empty()) failure = "migration " + status;
        break;
      }
      if (!cancelled && std::chrono::steady_clock::now() > deadline) {
        qmp.execute("migrate_cancel");
        failure = "migration timed out after 60 s";
        cancelled = true;  // wait for the cancel to finish before continuing the VM
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  } catch (const std::exception& e) {
    failure = e.what();
  }
  // After a completed migration the source is in "postmigrate"; after a failed one,
  // paused. Either way cont runs it on; a guest left paused would hang the boot.
  auto resumed = [&] {
    try {
      qmp.execute("cont");
    } catch (const std::exception&) {
    }
    try {
      return qmp.execute("query-status").value("running", false);
    } catch (const std::exception&) {
      return false;
    }
  };
  bool running = false;
  for (int i = 0; i < 100 && !(running = resumed()); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!running)
    throw Error(fmt::format("the VM could not be resumed after saving its boot snapshot{}", failure.empty() ? "" : ": " + failure),
                "run again with --no-snapshot, and report this with `quickboot -v`");
  return failure;
}

void prune_snapshots(const fs::path& dir, std::size_t keep) {
  std::error_code ec;
  std::vector<std::pair<fs::file_time_type, fs::path>> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    // A save that was killed (or hit a full disk) leaves NAME.vmstate.tmp* behind. A
    // save takes a fraction of a second: one untouched for ten minutes is dead.
    const std::string name = e.path().filename().string();
    if (name.find(".vmstate.tmp") != std::string::npos) {
      auto age = fs::file_time_type::clock::now() - e.last_write_time(ec);
      if (!ec && age > std::chrono::minutes(10)) fs::remove(e.path(), ec);
      continue;
    }
    if (e.path().extension() != ".vmstate") continue;
    files.emplace_back(e.last_write_time(ec), e.path());
  }
  if (files.size() <= keep) return;
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t i = keep; i < files.size(); ++i) fs::remove(files[i].second, ec);
}

void touch_snapshot(const fs::path& file) { ::utimensat(AT_FDCWD, file.c_str(), nullptr, 0); }

} // namespace qb::qemu
