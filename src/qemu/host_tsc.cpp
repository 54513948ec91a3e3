#include "qemu/host_tsc.hpp"

#include <time.h>

#include <fstream>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace qb::qemu {

namespace {
#if defined(__x86_64__) || defined(__i386__)
bool host_has_constant_tsc() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) return line.find(" constant_tsc") != std::string::npos;
  return false;
}

long long now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return static_cast<long long>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// One (time, TSC) pair whose clock reads bracket the TSC read within 20 us: a process
// preempted between the two reads would skew the rate, so such a pair is taken again.
struct Sample {
  long long ns;
  unsigned long long tsc;
};
Sample sample() {
  Sample s{};
  for (int tries = 0; tries < 100; ++tries) {
    long long before = now_ns();
    s.tsc = __rdtsc();
    long long after = now_ns();
    s.ns = before + (after - before) / 2;
    if (after - before < 20'000) break;
  }
  return s;
}
#endif
} // namespace

std::optional<unsigned long> host_tsc_khz() {
#if defined(__x86_64__) || defined(__i386__)
  if (!host_has_constant_tsc()) return std::nullopt;
  const Sample a = sample();
  timespec pause{0, 20'000'000};
  while (::nanosleep(&pause, &pause) != 0) {
  }
  const Sample b = sample();
  if (b.ns <= a.ns || b.tsc <= a.tsc) return std::nullopt;
  // cycles per millisecond = kHz
  unsigned long khz = static_cast<unsigned long>(static_cast<double>(b.tsc - a.tsc) * 1e6 / static_cast<double>(b.ns - a.ns));
  if (khz < 100'000 || khz > 20'000'000) return std::nullopt;  // not a plausible TSC: leave it to the kernel
  return khz;
#else
  return std::nullopt;
#endif
}

} // namespace qb::qemu
