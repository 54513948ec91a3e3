// The plain-read backend: the fallback when io_uring is unavailable, and the reference
// the io_uring backend is tested against.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "core/fd.hpp"
#include "core/io/batch_reader.hpp"

namespace qb::io {
namespace {

class PreadReader final : public BatchReader::Impl {
public:
  explicit PreadReader(const ReaderOptions& o) : root_(o.root_fd), buf_(o.chunk_size) {}

  void read(std::span<const FileRequest> files, const Sink& sink) override {
    for (std::size_t i = 0; i < files.size(); ++i) read_one(i, files[i].path, sink);
  }

private:
  void read_one(std::size_t i, const char* path, const Sink& sink) {
    Fd fd(::openat(root_, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
    if (!fd) return sink(Chunk{i, {}, true, errno});
    off_t off = 0;
    for (;;) {
      ssize_t n = ::pread(fd.get(), buf_.data(), buf_.size(), off);
      if (n < 0) {
        if (errno == EINTR) continue;
        return sink(Chunk{i, {}, true, errno});
      }
      if (n == 0) return sink(Chunk{i, {}, true, 0});
      off += n;
      // A short read of a regular file is its end (the io_uring backend decides the
      // same way); a file that grows meanwhile is caught by the caller's stat check.
      bool last = static_cast<std::size_t>(n) < buf_.size();
      sink(Chunk{i, {buf_.data(), static_cast<std::size_t>(n)}, last, 0});
      if (last) return;
    }
  }

  int root_;
  std::vector<std::byte> buf_;
};

} // namespace

std::unique_ptr<BatchReader::Impl> make_pread_reader(const ReaderOptions& o) {
  return std::make_unique<PreadReader>(o);
}

} // namespace qb::io
