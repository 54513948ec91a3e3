// `quickboot doctor`: checks what quickboot needs on this machine and says, for each
// problem, the command that fixes it. Exit 1 when something required is missing
// (QEMU, busybox-static); KVM, io_uring, inotify and space only warn.
#include <sys/statvfs.h>

#include <fstream>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/io/batch_reader.hpp"
#include "core/paths.hpp"
#include "core/process.hpp"
#include "initramfs/busybox.hpp"
#include "kernel/store.hpp"
#include "qemu/accel.hpp"
#include "qemu/command.hpp"

namespace qb::cli {

namespace {

namespace fs = std::filesystem;

enum class Status { ok, warning, error };

struct Check {
  std::string name;
  Status status = Status::ok;
  std::string detail;  // what was found
  std::string fix;     // the command that fixes it; empty when ok
  nlohmann::json data = nlohmann::json::object();
};

const char* to_string(Status s) { return s == Status::ok ? "ok" : s == Status::warning ? "warning" : "error"; }

std::optional<long> read_number(const fs::path& p) {
  std::ifstream in(p);
  long v = 0;
  if (in >> v) return v;
  return std::nullopt;
}

Check check_qemu(const std::string& arch, bool required) {
  std::string bin = qemu::qemu_binary(arch);
  Check c{bin, Status::ok, {}, {}, {}};
  fs::path p = find_program(bin);
  c.data["path"] = p.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.string());
  if (p.empty()) {
    c.status = required ? Status::error : Status::warning;
    c.detail = fmt::format("{} is not installed{}", bin, required ? "" : " (needed for i686 kernels)");
    c.fix = "sudo apt-get install qemu-system-x86";
    return c;
  }
  std::string version;
  try {
    auto r = run_capture({p.string(), "--version"});
    version = r.out.substr(0, r.out.find('\n'));
  } catch (const Error&) {
  }
  if (version.empty()) {
    c.status = required ? Status::error : Status::warning;
    c.detail = fmt::format("{} does not run (`{} --version` failed)", p.string(), bin);
    c.fix = "sudo apt-get install --reinstall qemu-system-x86";
    return c;
  }
  c.data["version"] = version;
  c.detail = fmt::format("{} ({})", version, p.string());
  return c;
}

Check check_busybox(const std::string& arch) {
  bool i686 = arch == "i686";
  Check c{i686 ? "busybox-i386" : "busybox", Status::ok, {}, {}, {}};
  c.data["path"] = initramfs::busybox_path(arch).string();
  try {
    auto bb = initramfs::find_busybox(arch);
    c.detail = fmt::format("{} (static, {} applets)", bb.path.string(), bb.applets.size());
  } catch (const Error& e) {
    // The x86_64 one runs every amd64 guest; the i386 one only i686 kernels (v86).
    c.status = i686 ? Status::warning : Status::error;
    c.detail = e.what();
    c.fix = i686 ? (data_dir() / "kernels/busybox.sh").string() + " i386" : "sudo apt-get install busybox-static";
  }
  return c;
}

Check check_kvm() {
  Check c{"kvm", Status::ok, {}, {}, {}};
  auto probe = qemu::probe_kvm();
  c.data["usable"] = probe.usable;
  c.data["reason"] = probe.reason;
  if (probe.usable) {
    c.detail = "usable: guests run with hardware acceleration";
    return c;
  }
  c.status = Status::warning;
  c.detail = probe.reason + "; guests run under TCG (slower, still correct)";
  if (probe.reason.find("does not exist") != std::string::npos)
    c.fix = "sudo modprobe kvm_intel || sudo modprobe kvm_amd   (on a VM: enable nested virtualisation on the host)";
  else if (probe.reason.find("opened") != std::string::npos)
    c.fix = "sudo usermod -aG kvm $USER   (then log in again)";
  else if (probe.reason.find("vmx or svm") != std::string::npos)
    c.fix = "enable VT-x/AMD-V in the firmware, or nested virtualisation on the host (kvm_intel nested=1)";
  else
    c.fix = "check `dmesg | grep -i kvm`; meanwhile quickboot uses --accel tcg";
  return c;
}

Check check_io_uring() {
  Check c{"io_uring", Status::ok, {}, {}, {}};
  auto disabled = read_number("/proc/sys/kernel/io_uring_disabled");
  c.data["io_uring_disabled"] = disabled ? nlohmann::json(*disabled) : nlohmann::json(nullptr);
  int err = 0;
  io::ReaderOptions o;
  o.depth = 2;
  o.chunk_size = 4096;
  bool ok = io::make_uring_reader(o, err) != nullptr;
  c.data["available"] = ok;
  if (ok) {
    c.detail = fmt::format("available (kernel.io_uring_disabled = {}); export reads files with it",
                           disabled ? std::to_string(*disabled) : "absent");
    return c;
  }
  c.status = Status::warning;
  c.data["error"] = std::strerror(err);
  c.detail = fmt::format("io_uring_queue_init failed: {}{}; export falls back to pread (slower on big trees)",
                         std::strerror(err),
                         disabled && *disabled ? fmt::format(" (kernel.io_uring_disabled = {})", *disabled) : "");
  c.fix = disabled && *disabled ? "sudo sysctl kernel.io_uring_disabled=0"
                                : "run outside the container/seccomp profile that blocks io_uring_setup";
  return c;
}

Check check_inotify() {
  Check c{"inotify", Status::ok, {}, {}, {}};
  auto watches = read_number("/proc/sys/fs/inotify/max_user_watches");
  auto instances = read_number("/proc/sys/fs/inotify/max_user_instances");
  c.data["max_user_watches"] = watches ? nlohmann::json(*watches) : nlohmann::json(nullptr);
  c.data["max_user_instances"] = instances ? nlohmann::json(*instances) : nlohmann::json(nullptr);
  if (!watches || !instances) {
    c.status = Status::warning;
    c.detail = "no /proc/sys/fs/inotify: `quickboot watch` cannot watch files";
    c.fix = "use a kernel with CONFIG_INOTIFY_USER=y";
    return c;
  }
  c.detail = fmt::format("max_user_watches {}, max_user_instances {}", *watches, *instances);
  std::vector<std::string> fixes;
  // One watch per directory: a Debian rootfs has ~3,000, a desktop one 30,000+.
  if (*watches < 65536) fixes.push_back("sudo sysctl fs.inotify.max_user_watches=524288");
  if (*instances < 128) fixes.push_back("sudo sysctl fs.inotify.max_user_instances=512");
  if (!fixes.empty()) {
    c.status = Status::warning;
    c.detail += " (low for watching a whole rootfs)";
    c.fix = fmt::format("{}   (persist it in /etc/sysctl.d/90-quickboot.conf)", fmt::join(fixes, " && "));
  }
  return c;
}

Check check_store() {
  Check c{"store", Status::ok, {}, {}, {}};
  fs::path home = quickboot_home();
  c.data["path"] = home.string();
  // statvfs the store, or the nearest existing parent before the first add creates it.
  fs::path probe = home;
  std::error_code ec;
  while (!fs::exists(probe, ec) && probe.has_relative_path()) probe = probe.parent_path();
  struct statvfs st{};
  std::uint64_t free_bytes = 0;
  if (::statvfs(probe.c_str(), &st) == 0) free_bytes = std::uint64_t(st.f_bavail) * st.f_frsize;
  c.data["free_bytes"] = free_bytes;
  std::size_t kernels = 0;
  std::optional<std::string> def;
  try {
    kernel::KernelStore store(home);
    kernels = store.list().size();
    def = store.default_id();
  } catch (const Error& e) {
    c.status = Status::warning;
    c.detail = e.what();
  }
  c.data["kernels"] = kernels;
  c.data["default_kernel"] = def ? nlohmann::json(*def) : nlohmann::json(nullptr);
  // Boot snapshots (docs/boot.md): a few, tens of MB each; say how much they hold.
  std::uint64_t snap_bytes = 0, snaps = 0;
  for (const auto& e : fs::directory_iterator(home / "snapshots", ec))
    if (e.path().extension() == ".vmstate") {
      ++snaps;
      snap_bytes += e.file_size(ec);
    }
  c.data["snapshots"] = snaps;
  c.data["snapshot_bytes"] = snap_bytes;
  c.detail = fmt::format("{}: {:.1f} GiB free, {} kernel{}{}, {} boot snapshot{} ({} MB)", home.string(),
                         double(free_bytes) / double(1ull << 30), kernels, kernels == 1 ? "" : "s",
                         def ? ", default " + *def : "", snaps, snaps == 1 ? "" : "s", snap_bytes >> 20);
  if (free_bytes < (1ull << 30)) {
    c.status = Status::warning;
    c.detail += " (under 1 GiB: a kernel with modules takes ~400 MiB)";
    c.fix = "free space there, or export QUICKBOOT_HOME=/a/bigger/disk/quickboot";
  } else if (kernels == 0) {
    c.status = Status::warning;
    c.detail += " (nothing to boot yet)";
    c.fix = fmt::format("quickboot kernel add $({} amd64) --default", (data_dir() / "kernels/debian.sh").string());
  }
  return c;
}

void run_doctor(GlobalOptions& g) {
  std::vector<Check> checks = {check_qemu("x86_64", true), check_qemu("i686", false), check_busybox("x86_64"),
                               check_busybox("i686"),      check_kvm(),                check_io_uring(),
                               check_inotify(),            check_store()};
  bool failed = false;
  int warnings = 0;
  for (const auto& c : checks) {
    failed |= c.status == Status::error;
    warnings += c.status == Status::warning;
  }
  if (g.json) {
    nlohmann::json j;
    j["ok"] = !failed;
    j["warnings"] = warnings;
    j["checks"] = nlohmann::json::array();
    for (const auto& c : checks) {
      nlohmann::json e = {{"name", c.name}, {"status", to_string(c.status)}, {"detail", c.detail}};
      e["fix"] = c.fix.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.fix);
      e.update(c.data);
      j["checks"].push_back(e);
      j[c.name] = e;  // also by name: `jq .kvm.reason`
    }
    print_json(j);
  } else {
    for (const auto& c : checks) {
      std::printf("%-7s %-19s %s\n", c.status == Status::ok ? "ok" : c.status == Status::warning ? "warn" : "MISSING",
                  c.name.c_str(), c.detail.c_str());
      if (!c.fix.empty()) std::printf("        %-19s fix: %s\n", "", c.fix.c_str());
    }
    std::printf("\n%s\n", failed ? "quickboot cannot boot guests here until the MISSING items are fixed."
                          : warnings ? fmt::format("ready to boot ({} warning{}).", warnings, warnings == 1 ? "" : "s").c_str()
                                     : "ready to boot.");
  }
  g.exit_code = failed ? 1 : 0;
}

} // namespace

void add_doctor_command(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("doctor",
      "Check this machine: QEMU and its version, busybox-static (x86_64, and i386 for v86),\n"
      "whether KVM is usable and why not, io_uring, inotify limits, the store's free space\n"
      "and kernels. Each problem comes with the command that fixes it.\n"
      "Exit 0 when quickboot can boot guests here (warnings included), 1 when QEMU or\n"
      "busybox-static is missing.");
  cmd->footer("Examples:\n  quickboot doctor\n  quickboot --json doctor | jq .kvm.reason");
  cmd->callback([&g] { run_doctor(g); });
}

} // namespace qb::cli
