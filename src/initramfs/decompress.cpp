#include "initramfs/decompress.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <memory>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/file_util.hpp"

namespace qb::initramfs {

std::string read_maybe_compressed(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  if (ext != ".xz" && ext != ".zst" && ext != ".gz") return read_file(path);
  std::unique_ptr<archive, Deleter<archive_read_free>> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK)
    throw Error(fmt::format("cannot open {}: {}", path.string(), archive_error_string(a.get())));
  archive_entry* e = nullptr;
  if (archive_read_next_header(a.get(), &e) != ARCHIVE_OK)
    throw Error(fmt::format("cannot decompress {}: {}", path.string(), archive_error_string(a.get())),
                "the file is corrupt or truncated");
  std::string out;
  char buf[1 << 16];
  for (;;) {
    la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
    if (n < 0)
      throw Error(fmt::format("cannot decompress {}: {}", path.string(), archive_error_string(a.get())),
                  "the file is corrupt or truncated");
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

} // namespace qb::initramfs
