// The io_uring backend. Each of `depth` slots owns one registered buffer and one
// direct-descriptor slot. A small file costs one linked chain, openat -> read_fixed ->
// close, submitted in batches with the other slots' chains: three system calls' work
// for a fraction of one. Larger files are streamed one chunk at a time per slot, so
// memory stays at depth * chunk_size. No allocation per completion.
#include <fcntl.h>
#include <linux/openat2.h>
#include <liburing.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "core/error.hpp"
#include "core/io/batch_reader.hpp"
#include "core/io/open_beneath.hpp"

namespace qb::io {
namespace {

enum Op : std::uint64_t { op_open = 0, op_read = 1, op_close = 2 };

struct Slot {
  std::size_t file = 0;
  std::uint64_t offset = 0;
  unsigned pending = 0;  // CQEs still to come
  int err = 0;
  bool stream = false;   // chunked: one read at a time
  bool reopen = false;   // a one-shot read filled the buffer: go on streamed
  bool done = false;     // the last chunk (or the error) has been delivered
  bool busy = false;
};

class UringReader final : public BatchReader::Impl {
public:
  UringReader(const ReaderOptions& o, int& err)
      : root_(o.root_fd), chunk_(o.chunk_size), single_(o.single_chunk), slots_(o.depth) {
    // openat2, resolved beneath the root without symlinks (open_beneath.hpp), and
    // non-blocking: a FIFO swapped in cannot hang the ring (its read gives EAGAIN or
    // end of file, and the caller's stat check sees it is no file).
    how_.flags = O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK;
    how_.resolve = beneath_resolve_flags();
    int r = io_uring_queue_init(o.depth * 4, &ring_, 0);
    if (r < 0) { err = -r; return; }
    ring_ok_ = true;
    std::size_t total = chunk_ * o.depth;
    mem_ = static_cast<std::byte*>(std::aligned_alloc(4096, (total + 4095) / 4096 * 4096));
    if (!mem_) { err = ENOMEM; return; }
    std::vector<iovec> iov(o.depth);
    for (unsigned i = 0; i < o.depth; ++i) iov[i] = {mem_ + i * chunk_, chunk_};
    if ((r = io_uring_register_buffers(&ring_, iov.data(), o.depth)) < 0) { err = -r; return; }
    if ((r = io_uring_register_files_sparse(&ring_, o.depth)) < 0) { err = -r; return; }
    ok_ = true;
  }
  ~UringReader() override {
    if (ring_ok_) io_uring_queue_exit(&ring_);
    std::free(mem_);
  }
  bool ok() const { return ok_; }

  void read(std::span<const FileRequest> files, const Sink& sink) override {
    files_ = files;
    sink_ = &sink;
    next_ = 0;
    active_ = 0;
    for (unsigned s = 0; s < slots_.size() && next_ < files.size(); ++s) start(s);
    while (active_ > 0) {
      int r = io_uring_submit_and_wait(&ring_, 1);
      if (r < 0 && r != -EINTR) throw Error::from_errno("io_uring_submit_and_wait", "ring", {}, -r);
      io_uring_cqe* cqe;
      unsigned head, seen = 0;
      io_uring_for_each_cqe(&ring_, head, cqe) {
        ++seen;
        complete(static_cast<unsigned>(cqe->user_data >> 2), static_cast<Op>(cqe->user_data & 3), cqe->res);
      }
      io_uring_cq_advance(&ring_, seen);
    }
  }

private:
  io_uring_sqe* sqe(unsigned slot, Op op) {
    io_uring_sqe* e = io_uring_get_sqe(&ring_);
    if (!e) {
      io_uring_submit(&ring_);
      e = io_uring_get_sqe(&ring_);
      if (!e) throw Error("io_uring: submission queue full");
    }
    io_uring_sqe_set_data64(e, (std::uint64_t(slot) << 2) | op);
    ++slots_[slot].pending;
    return e;
  }
  std::byte* buf(unsigned slot) { return mem_ + slot * chunk_; }

  void start(unsigned slot) {
    Slot& s = slots_[slot];
    s = Slot{};
    s.busy = true;
    s.file = next_++;
    ++active_;
    s.stream = files_[s.file].size_hint >= chunk_;
    submit_open_read(slot, !s.stream);
  }

  // openat (direct, into this slot) linked to the first read; the one-shot form also
  // hard-links a close so the descriptor goes away even after a short read, which
  // would break a soft link.
  void submit_open_read(unsigned slot, bool with_close) {
    Slot& s = slots_[slot];
    io_uring_sqe* e = sqe(slot, op_open);
    io_uring_prep_openat2_direct(e, root_, files_[s.file].path, &how_, slot);
    e->flags |= IOSQE_IO_LINK;
    e = sqe(slot, op_read);
    io_uring_prep_read_fixed(e, static_cast<int>(slot), buf(slot), static_cast<unsigned>(chunk_), s.offset,
                             static_cast<int>(slot));
    e->flags |= IOSQE_FIXED_FILE;
    if (with_close) {
      e->flags |= IOSQE_IO_HARDLINK;
      io_uring_prep_close_direct(sqe(slot, op_close), slot);
    }
  }

  void deliver(Slot& s, std::size_t n, bool last) {
    (*sink_)(Chunk{s.file, {buf(static_cast<unsigned>(&s - slots_.data())), n}, last, 0});
    if (last) s.done = true;
  }

  void complete(unsigned slot, Op op, int res) {
    Slot& s = slots_[slot];
    --s.pending;
    if (op == op_open && res < 0) s.err = -res;
    if (op == op_read) {
      if (res < 0) {
        if (!s.err) s.err = -res;
        // An open that worked but a read that failed: close the descriptor.
        if (s.stream && res != -ECANCELED) io_uring_prep_close_direct(sqe(slot, op_close), slot);
      } else if (!s.err) {
        std::size_t n = static_cast<std::size_t>(res);
        s.offset += n;
        bool full = n == chunk_;
        if (!s.stream && full && single_) {
          s.err = too_long;  // the hard-linked close still runs
        } else if (!s.stream) {
          deliver(s, n, !full);
          s.reopen = full;
        } else if (full) {
          deliver(s, n, false);
          io_uring_sqe* e = sqe(slot, op_read);
          io_uring_prep_read_fixed(e, static_cast<int>(slot), buf(slot), static_cast<unsigned>(chunk_), s.offset,
                                   static_cast<int>(slot));
          e->flags |= IOSQE_FIXED_FILE;
        } else {
          deliver(s, n, true);
          io_uring_prep_close_direct(sqe(slot, op_close), slot);
        }
      }
    }
    if (s.pending > 0) return;
    if (s.reopen && !s.err) {
      // The file was larger than its stat said: go on from here, streamed.
      s.reopen = false;
      s.stream = true;
      submit_open_read(slot, false);
      return;
    }
    if (!s.done) (*sink_)(Chunk{s.file, {}, true, s.err ? s.err : EIO});
    s.busy = false;
    --active_;
    if (next_ < files_.size()) start(slot);
  }

  int root_;
  std::size_t chunk_;
  bool single_;
  open_how how_{};
  std::vector<Slot> slots_;
  io_uring ring_{};
  bool ring_ok_ = false, ok_ = false;
  std::byte* mem_ = nullptr;
  std::span<const FileRequest> files_;
  const Sink* sink_ = nullptr;
  std::size_t next_ = 0;
  unsigned active_ = 0;
};

} // namespace

std::unique_ptr<BatchReader::Impl> make_uring_reader(const ReaderOptions& o, int& err) {
  auto r = std::make_unique<UringReader>(o, err);
  if (!r->ok()) return nullptr;
  return r;
}

} // namespace qb::io
