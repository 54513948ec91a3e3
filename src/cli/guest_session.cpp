#include "cli/guest_session.hpp"

#include <chrono>
#include <optional>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "core/log.hpp"
#include "core/paths.hpp"
#include "initramfs/builder.hpp"
#include "initramfs/cpio_archive.hpp"
#include "initramfs/sysroot.hpp"
#include "kernel/module_index.hpp"
#include "qemu/accel.hpp"
#include "qemu/host_tsc.hpp"
#include "qemu/snapshot.hpp"

namespace qb::cli {

namespace fs = std::filesystem;

void add_boot_options(CLI::App& cmd, BootOptions& o) {
  cmd.add_option("ROOTFS", o.rootfs, "Host directory to boot as the guest's root (shared over virtio-9p)")->required();
  add_initrd_options(cmd, o.initrd, false);
  cmd.add_option("--append", o.append, "Extra kernel command line (repeatable; later words win)")->allow_extra_args(false);
  cmd.add_option("--memory", o.memory_mb, "Guest memory in MiB (default 512)");
  cmd.add_option("--cpus", o.cpus, "Guest CPUs (default 1)");
  cmd.add_option("--accel", o.accel, "auto (KVM if it really works, else TCG), kvm or tcg")
      ->check(CLI::IsMember({"auto", "kvm", "tcg"}));
  cmd.add_option("--machine", o.machine, "pc (default), q35, or microvm (virtio-mmio devices, no PCI; never snapshotted)")
      ->check(CLI::IsMember({"pc", "q35", "microvm"}));
  cmd.add_flag("--writable", o.writable, "Let the guest write through to ROOTFS (default: a tmpfs overlay protects it)");
  cmd.add_option("--inject", o.injects, "Share another host directory: HOST:GUEST[:ro] (repeatable)")->allow_extra_args(false);
  cmd.add_option("--overlay", o.overlays,
                 "Layer a host directory over ROOTFS, read-only (repeatable; later ones win, all win over ROOTFS)")
      ->allow_extra_args(false);
  cmd.add_option("--net", o.net, "none (default) or user (QEMU user networking)")->check(CLI::IsMember({"none", "user"}));
  cmd.add_option("--qemu-arg", o.qemu_args, "Pass one more argument to QEMU (repeatable)")->allow_extra_args(false);
  cmd.add_flag("--no-snapshot{false}", o.snapshot,
               "Boot from scratch every time instead of restoring the saved boot snapshot (TCG only; see docs/boot.md)");
}

namespace {

bool exists_in_root(const fs::path& root, const std::string& guest) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(root / fs::path(guest).relative_path(), ec));
}

// The guest mounts each share at /new_root + GUEST with a shell loop over
// "tag|path|mode" words: a GUEST path with blanks, '|', control characters or a ".."
// component would be split, misread, or land outside the new root.
void check_guest_mount_point(const std::string& inj, const std::string& guest) {
  for (unsigned char ch : guest)
    if (ch < 0x21 || ch == 0x7f || ch == '|')
      throw Error(fmt::format("--inject {}: GUEST may not contain blanks, control characters or '|'", inj),
                  "pick a plain mount point such as /root/project");
  for (const auto& part : fs::path(guest))
    if (part == "..") throw Error(fmt::format("--inject {}: GUEST may not contain '..'", inj), "give the path without ..");
}

// The host file `guest` names inside `root`, symlinks followed as the guest would
// follow them (an absolute target starts again at `root`); nullopt when it does not
// resolve there.
std::optional<fs::path> resolve_in_root(const fs::path& root, const std::string& guest) {
  try {
    fs::path host = initramfs::path_in_root(root, guest);
    std::error_code ec;
    if (fs::exists(fs::symlink_status(host, ec))) return host;
  } catch (const Error&) {  // a symlink loop: it does not resolve either
  }
  return std::nullopt;
}

// The first symlink on the way to `guest` inside `root` whose target does not resolve
// there (a guest path), if any.
std::optional<std::string> dangling_symlink_on(const fs::path& root, const std::string& guest) {
  fs::path prefix = "/";
  std::error_code ec;
  for (const auto& c : fs::path(guest).relative_path()) {
    auto parent = resolve_in_root(root, prefix.string());
    prefix /= c;
    if (!parent) return std::nullopt;
    if (fs::is_symlink(*parent / c, ec) && !resolve_in_root(root, prefix.string())) return prefix.string();
  }
  return std::nullopt;
}

// The words of the --append lines, in order (each line may hold several).
std::vector<std::string> append_words(const std::vector<std::string>& lines) {
  std::vector<std::string> words;
  for (const auto& line : lines) {
    std::size_t i = 0;
    while (i < line.size()) {
      auto j = line.find(' ', i);
      if (j == std::string::npos) j = line.size();
      if (j > i) words.push_back(line.substr(i, j - i));
      i = j + 1;
    }
  }
  return words;
}

// The value of the last KEY=value word, as the kernel's command line parsing has it.
std::string cmdline_value(const std::vector<std::string>& lines, const std::string& key) {
  std::string v;
  for (const auto& w : append_words(lines))
    if (w.rfind(key + "=", 0) == 0) v = w.substr(key.size() + 1);
  return v;
}

// "rw" or "ro" as the kernel command line of a boot from scratch would end up: ours,
// then the user's --append words, the last one winning.
std::string rw_word(const BootOptions& o) {
  std::string w = o.writable ? "rw" : "ro";
  for (const auto& word : append_words(o.append))
    if (word == "rw" || word == "ro") w = word;
  return w;
}

} // namespace

PreparedBoot prepare_boot(const BootOptions& o, const std::vector<std::string>& run_argv, bool interactive) {
  // Input checks first: every one of them fails before QEMU starts.
  std::error_code ec;
  fs::path rootfs = fs::absolute(o.rootfs);
  if (!fs::exists(rootfs, ec)) throw Error(fmt::format("ROOTFS {} does not exist", o.rootfs), "pass the directory to boot");
  if (!fs::is_directory(rootfs, ec))
    throw Error(fmt::format("ROOTFS {} is not a directory", o.rootfs),
                "quickboot boots a directory tree; unpack an image or archive first");
  std::string init = cmdline_value(o.append, "init");
  if (run_argv.empty()) {
    std::string want = init.empty() ? "/sbin/init" : init;
    // The guest sees ROOTFS with the --overlay layers over it: any layer may hold init.
    bool found = exists_in_root(rootfs, want);
    for (const auto& dir : o.overlays) found = found || exists_in_root(dir, want);
    if (!found)
      throw Error(fmt::format("{} has no {}{}", o.rootfs, want, o.overlays.empty() ? "" : " (nor has any --overlay)"),
                  "add an init to the rootfs, pass --append init=/bin/sh, or use `quickboot run ROOTFS -- CMD`");
  }
  if (o.boot_init) {
    // run --boot hands the command to systemd as a unit: other inits have no such hook.
    std::string want = init.empty() ? "/sbin/init" : init;
    std::optional<fs::path> real;
    for (auto it = o.overlays.rbegin(); it != o.overlays.rend() && !real; ++it) real = resolve_in_root(fs::absolute(*it), want);
    if (!real) real = resolve_in_root(rootfs, want);
    if (!real)
      throw Error(fmt::format("run --boot: {} has no {}", o.rootfs, want),
                  "install systemd (systemd-sysv) in the rootfs, or drop --boot to run the command without an init");
    if (real->filename() != "systemd")
      throw Error(fmt::format("run --boot: {}'s init {} is {}, not systemd; --boot supports systemd only", o.rootfs, want,
                              real->string()),
                  "drop --boot to run the command without starting init, or use `quickboot boot`");
  }
  qemu::require_qemu("x86_64");
  kernel::KernelStore store(quickboot_home());
  PreparedBoot p{store.resolve(o.initrd.kernel), {}, {}, {}, 0, false};
  auto choice = qemu::choose_accel(o.accel);
  p.accel_notice = choice.notice;

  // The initramfs: cached build plus a per-boot archive with this boot's settings.
  auto t0 = std::chrono::steady_clock::now();
  InitrdOptions io = o.initrd;
  io.rootfs = rootfs.string();
  if (o.machine == "microvm") io.modules.push_back("virtio_mmio");
  auto spec = make_initrd_spec(io, p.kernel);
  auto built = initramfs::build_initrd(spec, quickboot_home() / "initrd");
  p.initrd_cached = built.cached;

  std::vector<std::string> shares;
  std::vector<qemu::Share> vm_shares = {{"host9p", rootfs, !o.writable}};
  int n = 0;
  for (const auto& inj : o.injects) {
    auto c1 = inj.find(':');
    if (c1 == std::string::npos) throw Error(fmt::format("--inject {}: expected HOST:GUEST[:ro]", inj), "e.g. --inject .:/root/project");
    std::string host = inj.substr(0, c1), guest = inj.substr(c1 + 1);
    bool ro = false;
    if (guest.size() > 3 && guest.compare(guest.size() - 3, 3, ":ro") == 0) {
      ro = true;
      guest.resize(guest.size() - 3);
    }
    if (guest.empty() || guest.front() != '/') throw Error(fmt::format("--inject {}: GUEST must be an absolute path", inj));
    check_guest_mount_point(inj, guest);
    if (!fs::is_directory(host, ec)) throw Error(fmt::format("--inject {}: {} is not a directory", inj, host));
    std::string tag = fmt::format("qbinj{}", n++);
    vm_shares.push_back({tag, fs::absolute(host), ro});
    shares.push_back(fmt::format("{}|{}|{}", tag, guest, ro ? "ro" : "rw"));
  }
  // Overlays: extra read-only shares the guest joins with overlayfs, the last one on top.
  std::vector<std::string> overlay_tags;
  if (!o.overlays.empty() && o.writable)
    throw Error("--overlay cannot be combined with --writable", "drop --writable: overlays need the protected root");
  for (const auto& dir : o.overlays) {
    if (!fs::is_directory(dir, ec)) throw Error(fmt::format("--overlay {}: not a directory", dir));
    overlay_tags.push_back(fmt::format("qbovl{}", overlay_tags.size()));
    vm_shares.push_back({overlay_tags.back(), fs::absolute(dir), true});
  }
  // A snapshot boot (TCG, quickboot's runtime): the kernel boots from the base image
  // alone up to the snapshot point, saved once and restored by later boots; this boot's
  // own files (hooks, /config, settings) reach the guest afterwards over a share.
  // Under KVM the kernel boots in well under a second and snapshots are left off. Nor
  // when the hooks bring modprobe.d settings or firmware: the snapshot's modules were
  // loaded before those files arrive.
  const char* no_snap = std::getenv("QB_NO_SNAPSHOT");
  p.snapshot = o.snapshot && choice.accel == qemu::Accel::tcg && o.machine != "microvm" &&
               o.initrd.runtime == "quickboot" && !(no_snap && *no_snap && std::string(no_snap) != "0") &&
               !built.module_settings;
  if (o.snapshot && built.module_settings && choice.accel == qemu::Accel::tcg && o.machine != "microvm" &&
      o.initrd.runtime == "quickboot")
    log::notice("no boot snapshot: the initramfs adds modprobe.d settings or firmware, which must be in place before "
                "modules load (the snapshot's modules load before them)");

  // A rootfs without this kernel's modules gets the store's, read-only, so modprobe works.
  const std::string modpath = "/lib/modules/" + p.kernel.release;
  // modules.dep, not the directory: a --writable boot leaves the empty mount point behind.
  const bool need_mods =
      !exists_in_root(rootfs, modpath + "/modules.dep") && !exists_in_root(rootfs, "/usr" + modpath + "/modules.dep");
  // The guest mounts them there: a dangling symlink on the way would fail it in the guest.
  if (need_mods)
    if (auto bad = dangling_symlink_on(rootfs, modpath))
      throw Error(fmt::format("{}{} is a symlink to {}, which does not exist in the rootfs", o.rootfs, *bad,
                              fs::read_symlink(rootfs / fs::path(*bad).relative_path(), ec).string()),
                  fmt::format("remove or fix the symlink: quickboot then shares the kernel's modules at {}", modpath));
  // Snapshot boots always have the device (mounted only when needed): the saved machine
  // stays the same whether or not a rootfs has its own modules.
  if (need_mods || p.snapshot) {
    // The store's tree as it is, with the indexes libkmod reads: an entry added by an
    // older quickboot gets them once, here.
    if (!kernel::has_module_indexes(p.kernel.modules_dir)) {
      log::notice("kernel {}: writing the module indexes the guest's modprobe needs (once)", p.kernel.id);
      try {
        kernel::write_module_indexes(p.kernel.modules_dir, p.kernel.release);
      } catch (const Error& e) {
        log::warn("{}; modprobe in the guest will not find modules", e.what());
      }
    }
    vm_shares.push_back({"qbmods", p.kernel.modules_dir, true});
    if (need_mods) {
      // The guest creates the mount point from the initramfs, where an absolute symlink
      // in the rootfs (/lib/modules -> /modroot/lib/modules) points outside the new root:
      // mount at the path it names inside the rootfs, as the rootfs itself resolves it.
      std::string mount_at = modpath;
      try {
        auto rel = initramfs::path_in_root(rootfs, modpath).lexically_relative(rootfs);
        if (!rel.empty() && *rel.begin() != "..") mount_at = "/" + rel.string();
      } catch (const Error&) {  // a loop: the check above or the guest reports it
      }
      shares.push_back(fmt::format("qbmods|{}|ro", mount_at));
    }
  }

  p.scratch = make_temp_dir(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp", "quickboot-boot");
  // Single-quoted: the guest sources boot.conf, and a GUEST path must stay data there.
  std::string boot_conf = fmt::format("QB_PROTECT={}\nQB_SHARES={}\nQB_OVERLAYS={}\n{}", o.writable ? 0 : 1,
                                      shell_quote(fmt::format("{}", fmt::join(shares, " "))),
                                      shell_quote(fmt::format("{}", fmt::join(overlay_tags, " "))),
                                      // watch without a command: the guest keeps a cache-dropping agent
                                      o.watch_mode && run_argv.empty() ? "QB_WATCH=1\n" : "");
  if (p.snapshot)
    // What the command line says on a boot from scratch, fixed in a snapshot.
    boot_conf += fmt::format("rwopt={}\n{}{}{}", rw_word(o), interactive ? "quickboot_emergency=shell\n" : "",
                             o.console_input ? "quickboot_console=1\n" : "", o.watch_mode ? "quickboot_marker=1\n" : "");
  initramfs::CpioArchive per_boot;
  per_boot.add_file("qb/boot.conf", boot_conf);
  if (!run_argv.empty())
    per_boot.add_file("qb/run.conf", "QB_ARGV=" + shell_quote(std::string_view(shell_quote(run_argv))) + "\n" +
                                         (o.watch_mode ? "QB_WATCH=1\n" : "") + (o.boot_init ? "QB_BOOT=1\n" : ""));
  fs::path initrd = p.scratch / "initrd.img";
  if (p.snapshot) {
    // The guest unpacks one archive: hooks and /config, then this boot's settings.
    fs::path ctl = p.scratch / "ctl";
    fs::create_directories(ctl);
    write_file_atomic(ctl / "boot.cpio",
                      initramfs::join_newc(initramfs::read_overlay_archive(built.overlay_archive),
                                           per_boot.write(initramfs::Compression::none)),
                      copy_mode(built.overlay_archive));
    vm_shares.push_back({"qbctl", ctl, true});
    initrd = built.base_image;
  } else {
    // The per-boot archive goes first: its files are not in the image, and nothing may
    // follow an lz4 stream (the kernel decodes it to the end of the initrd).
    std::string data = per_boot.write(initramfs::Compression::none);
    data += read_file(built.image);
    write_file_atomic(initrd, data, copy_mode(built.image));
  }
  p.initrd_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  auto& vm = p.vm;
  vm.arch = p.kernel.arch;
  vm.kernel = p.kernel.vmlinux && o.machine != "microvm" ? *p.kernel.vmlinux : p.kernel.bzimage;
  if (p.kernel.vmlinux && o.machine == "microvm") vm.kernel = *p.kernel.vmlinux;
  vm.initrd = initrd;
  if (p.snapshot) {
    vm.append = qemu::fast_kernel_cmdline(false, o.machine) + " quickboot.snapshot=1";
    vm.snapshot_boot = true;
    vm.snapshot_dir = quickboot_home() / "snapshots";
  } else {
    vm.append = qemu::fast_kernel_cmdline(false, o.machine) + (o.writable ? " rw" : " ro") +
                (interactive ? " quickboot.emergency=shell" : "") + (o.console_input ? " quickboot.console=1" : "") +
                (o.watch_mode ? " quickboot.marker=1" : "");
  }
  // microvm under TCG: the kernel cannot calibrate the TSC without HPET or a PM timer
  // and hangs in most boots (host_tsc.hpp); it is told the rate instead. --append wins.
  if (o.machine == "microvm" && choice.accel == qemu::Accel::tcg)
    if (auto khz = qemu::host_tsc_khz()) vm.append += fmt::format(" tsc_early_khz={}", *khz);
  for (const auto& a : o.append) vm.append += " " + a;
  vm.memory_mb = o.memory_mb;
  vm.cpus = o.cpus;
  vm.accel = choice.accel;
  vm.machine = o.machine;
  vm.shares = vm_shares;
  vm.net = o.net;
  vm.console = interactive ? qemu::Console::interactive : qemu::Console::pipe;
  vm.extra_args = o.qemu_args;
  return p;
}

} // namespace qb::cli
