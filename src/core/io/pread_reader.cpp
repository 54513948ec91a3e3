// The plain-read backend: the fallback when io_uring is unavailable, and the reference
// the io_uring backend is tested against.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "core/fd.hpp"
#include "core/io/batch_reader.hpp"
#include "core/io/open_beneath.hpp"

namespace qb::io {
namespace {

class PreadReader final : public BatchReader::Impl {
public:
  explicit PreadReader(const ReaderOptions& o) : root_(o.root_fd), single_(o.single_chunk), buf_(o.chunk_size) {}

  void read(std::span<const FileRequest> files, const Sink& sink) override {
    for (std::size_t i = 0; i < files.size(); ++i) read_one(i, files[i].path, sink);
  }

private:
  void read_one(std::size_t i, const char* path, const Sink& sink) {
    // Non-blocking: a FIFO swapped in after the caller's stat must not hang the open;
    // the type check then keeps it from being read at all.
    Fd fd(open_beneath(root_, path, O_RDONLY | O_NOCTTY | O_NONBLOCK));
    if (!fd) return sink(Chunk{i, {}, true, errno});
    struct stat st{};
    if (::fstat(fd.get(), &st) != 0) return sink(Chunk{i, {}, true, errno});
    if (S_ISDIR(st.st_mode)) return sink(Chunk{i, {}, true, EISDIR});  // as a read would say
    if (!S_ISREG(st.st_mode)) return sink(Chunk{i, {}, true, not_regular});
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
      if (!last && single_) return sink(Chunk{i, {}, true, too_long});
      sink(Chunk{i, {buf_.data(), static_cast<std::size_t>(n)}, last, 0});
      if (last) return;
    }
  }

  int root_;
  bool single_;
  std::vector<std::byte> buf_;
};

} // namespace

std::unique_ptr<BatchReader::Impl> make_pread_reader(const ReaderOptions& o) {
  return std::make_unique<PreadReader>(o);
}

} // namespace qb::io
