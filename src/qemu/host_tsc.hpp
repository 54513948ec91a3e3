#pragma once
// The host's TSC frequency, for TCG guests that cannot measure it themselves.
#include <optional>

namespace qb::qemu {

// Under TCG a guest's RDTSC reads the host's TSC, so the guest's TSC runs at the host's
// rate. microvm has no HPET and no ACPI PM timer: when the kernel's quick calibration
// against the PIT fails (timing under TCG makes it fail in most boots), it has no
// reference left, marks the TSC unstable and hangs before the console says anything.
// Measured here against CLOCK_MONOTONIC_RAW over 20 ms and passed as tsc_early_khz=.
// nullopt when the host is not x86-64 or its TSC rate is not constant (no constant_tsc).
std::optional<unsigned long> host_tsc_khz();

} // namespace qb::qemu
