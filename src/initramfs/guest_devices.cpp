#include "initramfs/guest_devices.hpp"

#include <algorithm>

#include "initramfs/module_closure.hpp"

namespace qb::initramfs {

const std::vector<std::string>& guest_device_aliases() {
  // Read from guests quickboot booted (Debian's 6.1 kernel, QEMU 7.2, `--net user`)
  // with `find /sys/devices -name uevent -exec sort -u {} +`, as autodetect reads them;
  // tests/boot/guest_autodetect.sh checks them against a booted guest's.
  static const std::vector<std::string> aliases = {
      // The virtio devices: 9p shares, serial ports (run, watch), the user network.
      // PCI (pc, q35) and MMIO (microvm) transports.
      "pci:v00001AF4d00001009sv00001AF4sd00000009bc00sc02i00",  // virtio-9p-pci
      "pci:v00001AF4d00001003sv00001AF4sd00000003bc07sc80i00",  // virtio-serial-pci
      "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00",  // virtio-net-pci
      "virtio:d00000009v00001AF4", "virtio:d00000003v00001AF4", "virtio:d00000001v00001AF4",
      "virtio:d00000009v554D4551", "virtio:d00000003v554D4551", "virtio:d00000001v554D4551",
      "virtio-pci", "virtio-mmio", "9pnet_virtio", "virtio_console",
      // pc: i440FX host bridge, PIIX3 ISA bridge and IDE, PIIX4 ACPI.
      "pci:v00008086d00001237sv00001AF4sd00001100bc06sc00i00",
      "pci:v00008086d00007000sv00001AF4sd00001100bc06sc01i00",
      "pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80",
      "pci:v00008086d00007113sv00001AF4sd00001100bc06sc80i00",
      // q35: ICH9 LPC, AHCI, SMBus; the MCH host bridge.
      "pci:v00008086d00002918sv00001AF4sd00001100bc06sc01i00",
      "pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01",
      "pci:v00008086d00002930sv00001AF4sd00001100bc0Csc05i00",
      "pci:v00008086d000029C0sv00001AF4sd00001100bc06sc00i00",
      // ACPI and platform devices of the three machines.
      "acpi:ACPI0010:PNP0A05:", "acpi:ACPI0013:", "acpi:LNRO0005:", "acpi:LNXCPU:", "acpi:LNXPWRBN:",
      "acpi:LNXSYBUS:", "acpi:LNXSYSTM:", "acpi:PNP0103:", "acpi:PNP0303:", "acpi:PNP0501:", "acpi:PNP0700:",
      "acpi:PNP0A03:", "acpi:PNP0A06:", "acpi:PNP0A08:PNP0A03:", "acpi:PNP0B00:", "acpi:PNP0C01:", "acpi:PNP0C0C:",
      "acpi:PNP0C0F:", "acpi:PNP0F13:", "acpi:QEMU0002:", "acpi-ged", "platform:alarmtimer", "platform:i8042",
      "platform:pcspkr", "platform:platform-framebuffer", "platform:reg-dummy", "platform:serial8250",
      "alarmtimer", "i8042", "processor", "reg-dummy", "rtc_cmos", "serial", "serial8250", "system"};
  return aliases;
}

std::vector<std::string> guest_autodetect_modules(ModuleTree& tree) {
  std::vector<std::string> out;
  auto add = [&](const std::string& name) {
    for (auto& m : tree.providers(name)) out.push_back(std::move(m));
  };
  for (const auto& a : guest_device_aliases()) add(a);
  // The root: the 9p share, under an overlay when the host is protected (autodetect
  // adds the root filesystem's module, as `fs-TYPE` or TYPE).
  for (const char* fs : {"fs-9p", "9p", "fs-overlay", "overlay"}) add(fs);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

} // namespace qb::initramfs
