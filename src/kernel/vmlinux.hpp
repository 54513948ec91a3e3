#pragma once
// bzImage -> ELF vmlinux, on a worker thread so it overlaps the module extraction.
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

namespace qb::kernel {

namespace fs = std::filesystem;

struct VmlinuxResult {
  std::string arch;              // from the ELF header: x86_64 or i686
  bool pvh = false;              // carries XEN_ELFNOTE_PHYS32_ENTRY
  std::optional<fs::path> path;  // written only when pvh
  std::size_t size = 0;          // decompressed size
};

// Decompresses the payload of the bzImage `image` (named `what` in errors) and writes
// the ELF to `out` when it has the PVH note. Throws Error (corrupt payload, not an ELF).
VmlinuxResult extract_vmlinux(std::string_view image, std::string_view what, const fs::path& out);

// Runs extract_vmlinux on its own thread. The worker does not throw: it records the
// error, and get() rethrows it on the calling thread.
class VmlinuxJob {
public:
  VmlinuxJob(std::string image, std::string what, fs::path out);
  ~VmlinuxJob();
  VmlinuxJob(const VmlinuxJob&) = delete;
  VmlinuxJob& operator=(const VmlinuxJob&) = delete;
  VmlinuxResult get();

private:
  std::string image_, what_;
  fs::path out_;
  VmlinuxResult result_;
  std::exception_ptr error_;
  std::thread thread_;
};

} // namespace qb::kernel
