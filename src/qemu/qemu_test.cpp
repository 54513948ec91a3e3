#include <algorithm>
#include <cmath>

#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "qemu/accel.hpp"
#include "qemu/command.hpp"
#include "qemu/host_tsc.hpp"

using namespace qb;
using namespace qb::qemu;

namespace {
bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }
bool has_part(const std::vector<std::string>& v, const std::string& s) {
  return std::any_of(v.begin(), v.end(), [&](const std::string& a) { return a.find(s) != std::string::npos; });
}
VmConfig sample() {
  VmConfig c;
  c.kernel = "/k/vmlinux";
  c.initrd = "/k/initrd.img";
  c.append = "console=ttyS0";
  c.shares = {{"host9p", "/root/tree", true}, {"qbinj0", "/src", false}};
  c.serial_ports = {{"qb.status", "/run/x/qb.status.sock"}};
  c.qmp_socket = "/run/x/qmp.sock";
  return c;
}
} // namespace

TEST_CASE("the QEMU command line for a direct 9p boot") {
  auto a = build_qemu_argv(sample());
  CHECK(a.front() == "qemu-system-x86_64");
  CHECK(has(a, "-nodefaults"));
  CHECK(has(a, "-no-reboot"));
  CHECK(has(a, "/k/vmlinux"));
  CHECK(has(a, "pc,accel=tcg"));
  CHECK(has_part(a, "path=/root/tree,security_model=none,multidevs=remap,readonly=on"));
  CHECK(has_part(a, "path=/src,security_model=none,multidevs=remap") );
  CHECK_FALSE(has_part(a, "path=/src,security_model=none,multidevs=remap,readonly=on"));
  CHECK(has(a, "virtio-9p-pci,fsdev=fs0,mount_tag=host9p"));
  CHECK(has_part(a, "name=qb.status"));
  CHECK(has(a, "unix:/run/x/qmp.sock,server=on,wait=off"));
  CHECK_FALSE(has_part(a, "netdev"));  // no network unless asked
}

TEST_CASE("microvm uses virtio-mmio devices; i686 uses qemu-system-i386; user net on request") {
  auto c = sample();
  c.machine = "microvm";
  c.net = "user";
  auto a = build_qemu_argv(c);
  CHECK(has(a, "microvm,rtc=on,accel=tcg"));
  CHECK(has(a, "virtio-9p-device,fsdev=fs0,mount_tag=host9p"));
  CHECK(has(a, "virtio-serial-device,id=vs"));
  CHECK(has_part(a, "virtio-net-device"));
  c = sample();
  c.arch = "i686";
  CHECK(build_qemu_argv(c).front() == "qemu-system-i386");
}

TEST_CASE("the tuned command line keeps the keyboard only when asked") {
  CHECK(fast_kernel_cmdline(false).find("i8042.nokbd") != std::string::npos);
  CHECK(fast_kernel_cmdline(true).find("i8042.nokbd") == std::string::npos);
  CHECK(fast_kernel_cmdline().find("acpi=noirq") != std::string::npos);
  CHECK(fast_kernel_cmdline(false, "microvm").find("acpi=noirq") == std::string::npos);
}

TEST_CASE("accelerator choice follows the KVM probe") {
  CHECK(choose_accel("tcg").accel == Accel::tcg);
  auto probe = probe_kvm();
  if (probe.usable) {
    CHECK(choose_accel("auto").accel == Accel::kvm);
  } else {
    INFO("KVM unusable here: " << probe.reason);
    CHECK_FALSE(probe.reason.empty());
    auto c = choose_accel("auto");
    CHECK(c.accel == Accel::tcg);
    CHECK(c.notice.find(probe.reason) != std::string::npos);
    CHECK_THROWS_AS(choose_accel("kvm"), Error);
  }
  CHECK_THROWS_AS(choose_accel("xen"), Error);
}

TEST_CASE("paths with commas stay one value in QEMU options (no second path=)") {
  VmConfig c = sample();
  c.shares = {{"host9p", "/t/x,path=/", true}};
  c.qmp_socket = "/t/a,b/qmp.sock";
  c.serial_ports = {{"qb.status", "/t/a,b/qb.status.sock"}};
  auto a = build_qemu_argv(c);
  CHECK(has_part(a, "local,id=fs0,path=/t/x,,path=/,security_model=none"));
  CHECK_FALSE(has_part(a, "path=/t/x,path="));
  CHECK(has(a, "unix:/t/a,,b/qmp.sock,server=on,wait=off"));
  CHECK(has_part(a, "socket,id=port0,path=/t/a,,b/qb.status.sock,server=off"));
}

TEST_CASE("host TSC rate: on an x86-64 host with a constant TSC, a plausible rate that two measurements agree on") {
#if defined(__x86_64__)
  auto a = host_tsc_khz();
  if (!a) {
    WARN("this host's TSC is not constant (no constant_tsc): nothing to measure");
    return;
  }
  auto b = host_tsc_khz();
  REQUIRE(b);
  CHECK(*a > 100'000);
  // Two 20 ms windows agree within 2 %, however busy the machine: a sleep that lasts
  // longer lengthens both counts together, and a preemption between a pair's reads
  // makes that pair be taken again.
  CHECK(std::abs(static_cast<double>(*a) - static_cast<double>(*b)) < 0.02 * static_cast<double>(*a));
#endif
}
