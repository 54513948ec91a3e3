#pragma once
// Helpers shared by the libFuzzer targets: the input as a file (the code under test
// reads paths), and a scratch directory per fuzzing process.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/log.hpp"

namespace qb::fuzz {

// The input as a file: an anonymous memory file, named by its /proc/self/fd path.
class InputFile {
public:
  InputFile(const std::uint8_t* data, std::size_t size) {
    fd_ = ::memfd_create("fuzz-input", MFD_CLOEXEC);
    if (fd_ < 0) std::abort();
    for (std::size_t off = 0; off < size;) {
      ssize_t n = ::write(fd_, data + off, size - off);
      if (n <= 0) std::abort();
      off += static_cast<std::size_t>(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~InputFile() { ::close(fd_); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  const std::filesystem::path& path() const { return path_; }

private:
  int fd_ = -1;
  std::filesystem::path path_;
};

// An empty scratch directory for one input (emptied again on every call), under
// $TMPDIR (run.sh points it at a tmpfs directory it removes afterwards) or /dev/shm:
// the targets write blobs and module trees.
inline std::filesystem::path scratch_dir() {
  static const std::filesystem::path base = [] {
    const char* t = std::getenv("TMPDIR");
    std::filesystem::path tmp = t && *t ? t : "/dev/shm";
    return tmp / ("qb-fuzz-" + std::to_string(::getpid()));
  }();
  std::error_code ec;
  std::filesystem::remove_all(base, ec);
  std::filesystem::create_directories(base);
  return base;
}

inline void quiet() { log::set_level(log::Level::quiet); }

} // namespace qb::fuzz
