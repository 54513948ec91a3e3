#pragma once
// What mkinitcpio's `autodetect` hook would find if it ran inside the guest: the
// devices of the QEMU machines quickboot starts (pc, q35, microvm, with every device
// quickboot may add), as the modalias and driver lines of the guest's
// /sys/devices/**/uevent. The image is for that machine, not for the host that builds
// it, so `autodetect` caches the modules of these devices instead of the host's.
#include <string>
#include <vector>

namespace qb::initramfs {

class ModuleTree;

// The uevent MODALIAS= and DRIVER= values of quickboot's guests (CPU and DMI lines
// left out: they name the host's CPU under KVM and select optimisations, not drivers).
const std::vector<std::string>& guest_device_aliases();

// The loadable modules of `tree` those devices resolve to (as `modprobe -R` does),
// with the modules of the guest's root filesystems (9p, overlay); sorted, unique.
std::vector<std::string> guest_autodetect_modules(ModuleTree& tree);

} // namespace qb::initramfs
