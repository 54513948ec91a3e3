#pragma once
// The static busybox that runs the guest side, matching the kernel's architecture.
#include <filesystem>
#include <string>
#include <vector>

namespace qb::initramfs {

struct Busybox {
  std::filesystem::path path;
  std::vector<std::string> applets;  // each gets a /usr/bin symlink
};

// Where the busybox for `arch` is looked for (cheap: no checks), for cache keys.
std::filesystem::path busybox_path(const std::string& arch);

// x86_64: $QUICKBOOT_BUSYBOX_X86_64, else /bin/busybox (Debian's busybox-static).
// i686:   $QUICKBOOT_BUSYBOX_I686, else the one kernels/busybox.sh i386 caches in downloads_dir().
// Throws Error when it is missing, not static, or for another architecture.
Busybox find_busybox(const std::string& arch);

// find_busybox(), but a missing i686 busybox (no $QUICKBOOT_BUSYBOX_I686) is first
// fetched from Debian's busybox-static:i386 with apt-get download, by the installed
// kernels/busybox.sh, with a progress line. Throws Error when that fails too.
// The fix for a missing busybox, naming the installed kernels/busybox.sh for i686.
std::string busybox_hint(const std::string& arch);

Busybox find_or_fetch_busybox(const std::string& arch);

} // namespace qb::initramfs
