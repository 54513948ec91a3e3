#pragma once
// Everything `boot`, `run` and `watch` share: check the rootfs, pick the kernel and the
// accelerator, build the initramfs, append the per-boot archive (settings, and for
// `run` the command), and describe the VM.
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/initrd_options.hpp"
#include "core/shell_quote.hpp"
#include "kernel/store.hpp"
#include "qemu/command.hpp"

namespace qb::cli {

struct BootOptions {
  std::string rootfs;
  InitrdOptions initrd;
  std::vector<std::string> append;
  unsigned memory_mb = 512;
  unsigned cpus = 1;
  std::string accel = "auto";
  std::string machine = "pc";
  bool writable = false;
  std::vector<std::string> injects;  // HOST:GUEST[:ro]
  std::vector<std::string> overlays; // directories over ROOTFS, read-only; later ones win
  std::string net = "none";
  std::vector<std::string> qemu_args;
  bool snapshot = true;  // --no-snapshot turns boot snapshots off
  // Set by `watch`: the guest prints a marker at switch_root and, in run mode, stays up
  // running the command again on request (QB_WATCH=1) instead of powering off.
  bool watch_mode = false;
  // `boot`: the console takes input (a terminal, or stdin forwarded), so a shell the
  // initramfs asks for can be answered. `run` and `watch` have none.
  bool console_input = false;
  // `run --boot`: the rootfs's own init (systemd) starts and the command runs once the
  // system is up, instead of in place of init.
  bool boot_init = false;
};

void add_boot_options(CLI::App& cmd, BootOptions& o);

struct PreparedBoot {
  kernel::KernelEntry kernel;
  qemu::VmConfig vm;          // initrd points into `scratch`
  std::filesystem::path scratch;  // per-boot directory, removed by the caller
  std::string accel_notice;
  double initrd_ms = 0;
  bool initrd_cached = false;
  bool snapshot = false;  // a snapshot boot (vm.snapshot_boot)
};

// `run_argv` non-empty: the guest runs it instead of init. Throws Error for bad input,
// before QEMU starts.
PreparedBoot prepare_boot(const BootOptions& o, const std::vector<std::string>& run_argv, bool interactive);

struct GlobalOptions;

// `quickboot run`: boots, runs argv in the guest, returns its exit status (0-255).
// Throws Error with the documented exit codes for timeouts, failed boots, signals.
int run_command(const BootOptions& o, const std::vector<std::string>& argv, double timeout_s, GlobalOptions& g);

// `quickboot boot`: console attached (terminal) or copied to stdout; returns 0 when
// the guest powered off, throws Error (exit 3/4/130) otherwise.
int boot_interactive(const BootOptions& o, GlobalOptions& g);


} // namespace qb::cli
