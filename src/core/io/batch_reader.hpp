#pragma once
// Batch file reader: reads many files and hands their bytes to a sink in chunks, in
// order within each file. Uses io_uring (batched open/read/close, a fixed buffer pool)
// when the kernel allows it, plain openat/pread otherwise. No liburing types here:
// core/io is the only code that includes <liburing.h>.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace qb::io {

enum class Backend { automatic, uring, pread };

// One file to read: a path beneath ReaderOptions::root_fd (opened with open_beneath:
// no symlink followed in any component, no ".." out, no absolute path; non-blocking),
// and the size seen by stat, used only to pick the one-shot or the streamed way.
struct FileRequest {
  const char* path;
  std::uint64_t size_hint;
};

// Chunk::error values that are not errnos.
inline constexpr int not_regular = -1;  // the path names a FIFO, device, directory...: not read
inline constexpr int too_long = -2;     // longer than one chunk with ReaderOptions::single_chunk

// A piece of file `file` (an index into the request span). `error` is 0, the errno
// of a failed open/read, or one of the values above; an errored chunk carries no data
// and ends that file. Every
// file gets exactly one chunk with last == true (an empty file: one empty last chunk).
// `data` is valid only during the sink call.
struct Chunk {
  std::size_t file;
  std::span<const std::byte> data;
  bool last;
  int error;
};

using Sink = std::function<void(const Chunk&)>;

struct ReaderOptions {
  Backend backend = Backend::automatic;
  int root_fd = -100;                 // AT_FDCWD
  std::size_t chunk_size = 256 * 1024; // files below this size are read in one go
  unsigned depth = 32;                // files in flight (io_uring) = buffers in the pool
  // Files are expected to fit one chunk (their stat size is smaller): one that fills
  // it ends with error too_long instead of being streamed (it grew, or it is not what
  // was stat'ed; the caller reads it its own way).
  bool single_chunk = false;
};

// The backend `automatic` resolves to: pread when QUICKBOOT_NO_IO_URING=1 is set or
// io_uring_queue_init fails (EPERM under kernel.io_uring_disabled or seccomp, ENOSYS
// on old kernels), uring otherwise. Probed once per process; the first fallback prints
// one notice line.
Backend resolve_backend(Backend wanted);
const char* backend_name(Backend b);

class BatchReader {
public:
  // Throws Error when the uring backend is asked for explicitly and cannot be set up.
  explicit BatchReader(ReaderOptions opts = {});
  ~BatchReader();
  BatchReader(const BatchReader&) = delete;
  BatchReader& operator=(const BatchReader&) = delete;

  Backend backend() const;
  // Reads every file; per-file failures go to the sink as error chunks. Throws Error
  // only when the ring itself fails. Memory is bounded by depth * chunk_size.
  void read(std::span<const FileRequest> files, const Sink& sink);

  struct Impl {
    virtual ~Impl() = default;
    virtual void read(std::span<const FileRequest> files, const Sink& sink) = 0;
  };

private:
  Backend backend_;
  std::unique_ptr<Impl> impl_;
};

// Backend constructors (uring_reader.cpp, pread_reader.cpp). make_uring_reader
// returns nullptr and sets `err` (an errno) when the ring cannot be set up.
std::unique_ptr<BatchReader::Impl> make_pread_reader(const ReaderOptions& o);
std::unique_ptr<BatchReader::Impl> make_uring_reader(const ReaderOptions& o, int& err);

} // namespace qb::io
