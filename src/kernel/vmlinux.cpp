#include "kernel/vmlinux.hpp"

#include <fmt/format.h>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "kernel/bzimage.hpp"
#include "kernel/decompress.hpp"
#include "kernel/elf.hpp"

namespace qb::kernel {

VmlinuxResult extract_vmlinux(std::string_view image, std::string_view what, const fs::path& out) {
  BzImage b = parse_bzimage(image, std::string(what));
  std::string elf = decompress(b.compression, b.payload, b.uncompressed_size, what);
  auto info = inspect_elf(elf);
  if (!info)
    throw Error(fmt::format("{}: the decompressed {} payload is not an ELF file", what, compression_name(b.compression)),
                "the kernel image is damaged; copy or download it again");
  VmlinuxResult r{info->arch, info->pvh_note, std::nullopt, elf.size()};
  if (r.pvh) {
    AtomicFile f(out);
    f.write(elf);
    f.commit(false);  // the entry is made durable (or not) as a whole
    r.path = out;
  }
  return r;
}

VmlinuxJob::VmlinuxJob(std::string image, std::string what, fs::path out)
    : image_(std::move(image)), what_(std::move(what)), out_(std::move(out)) {
  thread_ = std::thread([this] {
    try {
      result_ = extract_vmlinux(image_, what_, out_);
    } catch (...) {
      error_ = std::current_exception();
    }
  });
}

VmlinuxJob::~VmlinuxJob() {
  if (thread_.joinable()) thread_.join();
}

VmlinuxResult VmlinuxJob::get() {
  if (thread_.joinable()) thread_.join();
  if (error_) std::rethrow_exception(error_);
  return result_;
}

} // namespace qb::kernel
