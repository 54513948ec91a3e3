#include "qemu/command.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/paths.hpp"
#include "core/shell_quote.hpp"

namespace qb::qemu {

std::string qemu_binary(const std::string& arch) {
  return arch == "i686" ? "qemu-system-i386" : "qemu-system-x86_64";
}

fs::path require_qemu(const std::string& arch) {
  auto bin = qemu_binary(arch);
  auto p = find_program(bin);
  if (p.empty()) throw Error(bin + " is not installed", "apt-get install qemu-system-x86");
  return p;
}

std::string fast_kernel_cmdline(bool keyboard, std::string_view machine) {
  std::string s =
      "console=ttyS0 quiet panic=-1 cryptomgr.notests tsc=reliable no_timer_check 8250.nr_uarts=1 "
      "mitigations=off i8042.noaux quickboot.exit=reboot";
  // pc and q35 route interrupts without ACPI's help (less boot work); microvm's
  // virtio-mmio devices get their interrupts only from ACPI ("IRQ index 0 not found").
  if (machine != "microvm") s += " acpi=noirq";
  if (!keyboard) s += " i8042.nokbd";
  return s;
}

std::vector<std::string> build_qemu_argv(const VmConfig& c) {
  const bool microvm = c.machine == "microvm";
  std::vector<std::string> a = {qemu_binary(c.arch), "-nodefaults", "-no-user-config", "-display", "none",
                                "-no-reboot"};
  std::string machine = c.machine;
  if (microvm) machine += ",rtc=on";
  a.insert(a.end(), {"-machine", fmt::format("{},accel={}", machine, to_string(c.accel))});
  if (c.accel == Accel::kvm) a.insert(a.end(), {"-cpu", "host"});
  // qemu64, not max: fewer CPU features for the kernel to patch in under TCG (measured
  // 4.2 s against 5.5 s for the whole run).
  else a.insert(a.end(), {"-cpu", c.arch == "i686" ? "qemu32" : "qemu64"});
  a.insert(a.end(), {"-m", std::to_string(c.memory_mb), "-smp", std::to_string(c.cpus)});
  a.insert(a.end(), {"-kernel", c.kernel.string(), "-initrd", c.initrd.string(), "-append", c.append});

  if (c.console == Console::interactive) {
    // Ctrl-a x quits, Ctrl-a c switches to the monitor; Ctrl-c goes to the guest.
    a.insert(a.end(), {"-chardev", "stdio,id=con,mux=on,signal=off", "-serial", "chardev:con", "-mon", "chardev=con"});
  } else {
    a.insert(a.end(), {"-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con"});
  }
  // Every path inside a KEY=VALUE,... option goes through qemu_quote: a directory named
  // "x,path=" must not add a second path= (it would share the host's /). -kernel,
  // -initrd and -append take their argument whole, with no option parsing.
  if (!c.qmp_socket.empty())
    a.insert(a.end(), {"-qmp", fmt::format("unix:{},server=on,wait=off", qemu_quote(c.qmp_socket.string()))});

  const char* ninep = microvm ? "virtio-9p-device" : "virtio-9p-pci";
  int n = 0;
  for (const auto& s : c.shares) {
    std::string id = fmt::format("fs{}", n++);
    // security_model=none: guest sees host owners and modes; multidevs=remap keeps
    // inode numbers unique when the shared tree spans several filesystems.
    a.insert(a.end(), {"-fsdev", fmt::format("local,id={},path={},security_model=none,multidevs=remap{}", id,
                                             qemu_quote(s.host_path.string()), s.read_only ? ",readonly=on" : ""),
                       "-device", fmt::format("{},fsdev={},mount_tag={}", ninep, id, qemu_quote(s.tag))});
  }
  if (!c.serial_ports.empty()) {
    a.insert(a.end(), {"-device", microvm ? "virtio-serial-device,id=vs" : "virtio-serial-pci,id=vs"});
    int p = 0;
    for (const auto& [name, sock] : c.serial_ports) {
      std::string id = fmt::format("port{}", p++);
      a.insert(a.end(), {"-chardev", fmt::format("socket,id={},path={},server=off", id, qemu_quote(sock.string())), "-device",
                         fmt::format("virtserialport,bus=vs.0,chardev={},name={}", id, qemu_quote(name))});
    }
  }
  if (c.net == "user") {
    a.insert(a.end(), {"-netdev", "user,id=net0", "-device", microvm ? "virtio-net-device,netdev=net0" : "virtio-net-pci,netdev=net0"});
  }
  if (c.snapshot_boot) {
    // Without the source's run state in the saved state, a restored VM starts running
    // as soon as it is loaded (QEMU's default without -S), with no QMP round trip.
    a.insert(a.end(), {"-global", "migration.store-global-state=off"});
  }
  if (!c.incoming.empty()) {
    a.insert(a.end(), {"-incoming", "exec:cat " + shell_quote(c.incoming.string())});
  }
  a.insert(a.end(), c.extra_args.begin(), c.extra_args.end());
  return a;
}

} // namespace qb::qemu
