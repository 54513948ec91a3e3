#pragma once
// One QEMU process and everything it needs on the host: a private runtime directory
// (QMP socket, virtio-serial sockets), the console stream, and cleanup. The destructor
// ends QEMU (its whole process group) and removes the directory, whatever happened.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/fd.hpp"
#include "core/process.hpp"
#include "qemu/command.hpp"

namespace qb::qemu {

struct VmEvents {
  std::function<void(std::string_view)> console;                         // serial console bytes
  std::function<void(const std::string& port, std::string_view)> port;  // virtio-serial bytes
  // Asked after the events of each poll round: true ends run() with VmEnd::external
  // (a caller that saw something on the console it cannot go on from).
  std::function<bool()> stop;
};

enum class VmEnd { exited, timeout, interrupted, external };

// Another fd for run() to watch; the callback returns false to end run() (VmEnd::external).
struct ExtraFd {
  int fd;
  std::function<bool()> on_readable;
};

class Vm {
public:
  // `ports`: virtio-serial port names to expose (the guest finds them by name).
  Vm(VmConfig config, std::vector<std::string> ports);
  ~Vm();
  Vm(const Vm&) = delete;
  Vm& operator=(const Vm&) = delete;

  const fs::path& runtime_dir() const { return dir_; }
  const VmConfig& config() const { return config_; }
  std::vector<std::string> argv() const { return build_qemu_argv(config_); }

  // Throws Error when QEMU cannot be started.
  void start();
  // Pumps console and ports until QEMU exits, `deadline` passes or a signal arrives.
  VmEnd run(const VmEvents& events, std::optional<std::chrono::steady_clock::time_point> deadline,
            const std::vector<ExtraFd>& extra = {});
  // Writes to a virtio-serial port once the guest side is connected. False if not yet.
  bool send(const std::string& port, std::string_view data);
  // QEMU's wait status once it exited.
  std::optional<int> status() { return process_ ? process_->try_wait() : std::nullopt; }
  bool running() { return process_ && !process_->try_wait(); }
  // Whether start() restored a boot snapshot (false: booted from scratch).
  bool restored() const { return restoring_; }
  void stop();

private:
  void open_listeners();
  // Snapshot boots: "ready" on qb.status means the guest is at the snapshot point.
  void on_snapshot_point();
  std::string go_line() const;
  // A restore that failed before the guest did anything: boot from scratch instead.
  bool restore_failed(const std::string& qemu_errors);

  VmConfig config_;
  fs::path snapshot_state_;                            // this machine's state file
  std::vector<std::string> port_names_;
  std::vector<std::string> pending_;                   // bytes to send once a port connects
  bool restoring_ = false, saving_ = false, ready_seen_ = false, guest_spoke_ = false, go_sent_ = false;
  std::string status_head_;                            // qb.status bytes up to the ready line
  fs::path dir_;
  std::vector<std::pair<std::string, Fd>> listeners_;  // port name -> listening socket
  std::vector<Fd> ports_;                              // accepted connections, same order
  std::unique_ptr<Process> process_;
};

} // namespace qb::qemu
