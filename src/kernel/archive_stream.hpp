#pragma once
// A libarchive reader over the files a kernel source holds, read as one stream:
//   .deb      the ar archive, then the tar inside data.tar.{xz,zst,gz} (nothing on disk)
//   package   a (compressed) tar: Arch's .pkg.tar.zst/.xz
//   iso       ISO 9660 with Rock Ridge
// xz is decoded with liblzma's multi-threaded decoder (Debian's data.tar.xz has many
// blocks), the rest with libarchive's own filters.
#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <memory>
#include <string>

#include "core/fd.hpp"
#include "kernel/source.hpp"

namespace qb::kernel {

using ArchiveReader = std::unique_ptr<archive, Deleter<archive_read_free>>;

class ArchiveStream {
public:
  // Throws Error naming `path` when it cannot be opened or (for a .deb) has no data.tar.
  ArchiveStream(const std::filesystem::path& path, SourceKind kind);
  ~ArchiveStream();
  ArchiveStream(const ArchiveStream&) = delete;
  ArchiveStream& operator=(const ArchiveStream&) = delete;

  // The next entry, or nullptr at the end. Throws Error (corrupt or truncated input).
  archive_entry* next();
  // Calls `sink(data, size, offset)` for each block of the current entry. Throws Error.
  template <typename Sink> void read_data(Sink&& sink);
  archive* get() const { return reader_.get(); }
  // Skips the current entry's data (cheap in a stream: it is read and dropped).
  void skip();

  [[noreturn]] void fail(std::string_view what) const;

  struct Feeder;  // pulls raw bytes for the inner reader (public for the C callbacks)

private:
  std::filesystem::path path_;
  ArchiveReader outer_;   // the .deb's ar archive
  ArchiveReader reader_;  // the archive whose entries we walk
  std::unique_ptr<Feeder> feeder_;
};

template <typename Sink> void ArchiveStream::read_data(Sink&& sink) {
  const void* buf = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  for (;;) {
    int r = archive_read_data_block(reader_.get(), &buf, &size, &offset);
    if (r == ARCHIVE_EOF) return;
    if (r < ARCHIVE_WARN) fail("read");
    sink(static_cast<const char*>(buf), size, offset);
  }
}

} // namespace qb::kernel
