#pragma once
// The QEMU command line for a direct kernel boot with virtio-9p shares.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "qemu/accel.hpp"

namespace qb::qemu {

namespace fs = std::filesystem;

struct Share {
  std::string tag;     // mount tag, e.g. host9p; never 3-4 hex digits (mistaken for a device)
  fs::path host_path;
  bool read_only = true;
};

enum class Console { interactive, pipe };  // terminal with Ctrl-a escapes, or QEMU's stdout

struct VmConfig {
  std::string arch = "x86_64";       // x86_64 or i686 (qemu-system-i386)
  fs::path kernel;                   // PVH vmlinux or bzImage
  fs::path initrd;
  std::string append;
  unsigned memory_mb = 512;
  unsigned cpus = 1;
  Accel accel = Accel::tcg;
  std::string machine = "pc";        // pc, q35 or microvm
  std::vector<Share> shares;
  std::string net = "none";          // none or user
  Console console = Console::pipe;
  bool forward_stdin = false;        // pipe console: QEMU reads the serial input from our stdin
  fs::path qmp_socket;
  std::vector<std::pair<std::string, fs::path>> serial_ports;  // virtserialport name -> unix socket (QEMU connects)
  std::vector<std::string> extra_args;
  // Snapshot boots (qemu/snapshot.hpp): the guest waits at the snapshot point; Vm saves
  // the state into `snapshot_dir` there, or restores it (`incoming`) when it exists.
  bool snapshot_boot = false;
  fs::path snapshot_dir;
  fs::path incoming;                 // a saved state to start from (-incoming)
};

std::vector<std::string> build_qemu_argv(const VmConfig& c);

// "qemu-system-x86_64" or "qemu-system-i386".
std::string qemu_binary(const std::string& arch);

// Throws Error with the install command when QEMU is missing.
fs::path require_qemu(const std::string& arch);

// The tuned command line: measured under TCG (docs/measurements), each item trims a
// slow initcall or probe. `keyboard` keeps the i8042 keyboard (v86 needs it).
std::string fast_kernel_cmdline(bool keyboard = false, std::string_view machine = "pc");

} // namespace qb::qemu
