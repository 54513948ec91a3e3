#include "qemu/accel.hpp"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/fd.hpp"

namespace qb::qemu {

static bool cpu_has_virt_flags() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("flags", 0) != 0) continue;
    return line.find(" vmx") != std::string::npos || line.find(" svm") != std::string::npos;
  }
  return false;
}

KvmProbe probe_kvm() {
  if (::access("/dev/kvm", F_OK) != 0) return {false, "/dev/kvm does not exist (no KVM module loaded, or not exposed to this machine)"};
  Fd kvm(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
  if (!kvm) return {false, fmt::format("/dev/kvm cannot be opened read-write: {}", std::strerror(errno))};
  int version = ::ioctl(kvm.get(), KVM_GET_API_VERSION, 0);
  if (version != KVM_API_VERSION) return {false, fmt::format("/dev/kvm answers API version {}, not {}", version, KVM_API_VERSION)};
  if (!cpu_has_virt_flags())
    return {false, "the CPU does not advertise vmx or svm (nested virtualisation is off), so KVM guests would hang"};
  Fd vm(::ioctl(kvm.get(), KVM_CREATE_VM, 0));
  if (!vm) return {false, fmt::format("KVM_CREATE_VM failed: {}", std::strerror(errno))};
  return {true, {}};
}

AccelChoice choose_accel(const std::string& requested) {
  if (requested == "tcg") return {Accel::tcg, {}};
  auto probe = probe_kvm();
  if (requested == "kvm") {
    if (!probe.usable)
      throw Error("--accel kvm: KVM is not usable here: " + probe.reason,
                  "use --accel tcg (software emulation, slower) or --accel auto");
    return {Accel::kvm, {}};
  }
  if (requested != "auto") throw Error(fmt::format("unknown accelerator '{}'", requested), "use auto, kvm or tcg");
  if (probe.usable) return {Accel::kvm, {}};
  return {Accel::tcg, "KVM not usable (" + probe.reason + "); using TCG software emulation"};
}

const char* to_string(Accel a) { return a == Accel::kvm ? "kvm" : "tcg"; }

} // namespace qb::qemu
