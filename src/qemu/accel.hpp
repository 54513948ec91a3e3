#pragma once
// Choosing the accelerator. KVM only when /dev/kvm opens read-write, answers the API
// version, the CPU advertises vmx/svm and a VM can be created: "/dev/kvm exists" alone
// hangs guests on machines like CI's, where the node is present but does not work.
#include <string>

namespace qb::qemu {

enum class Accel { kvm, tcg };

struct KvmProbe {
  bool usable = false;
  std::string reason;  // why not, in one line; empty when usable
};

KvmProbe probe_kvm();

struct AccelChoice {
  Accel accel;
  std::string notice;  // non-empty when auto fell back to TCG: says why
};

// requested: "auto", "kvm" or "tcg". Throws Error for "kvm" when KVM is unusable.
AccelChoice choose_accel(const std::string& requested);

const char* to_string(Accel a);

} // namespace qb::qemu
