#include "kernel/archive_stream.hpp"

#include <fcntl.h>
#include <lzma.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "core/error.hpp"

namespace qb::kernel {

namespace {
constexpr std::size_t block_size = 1 << 20;
constexpr std::string_view corrupt_hint = "the file is corrupt or truncated; download or copy it again";
} // namespace

// Raw bytes from the .deb's data.tar member or from a file, xz-decoded when they start
// with the xz magic. Errors are recorded (C callbacks must not throw) and reported by
// ArchiveStream::fail.
struct ArchiveStream::Feeder {
  archive* outer = nullptr;  // read the current member of this ar archive, else `fd`
  Fd fd;
  std::string file_buf;
  bool raw_eof = false;
  bool probed = false;
  bool xz = false;
  lzma_stream lz = LZMA_STREAM_INIT;
  std::string out;
  std::string error;

  ~Feeder() { lzma_end(&lz); }

  // Next raw block; empty at the end; false on error.
  bool raw_next(const char** p, std::size_t* n) {
    *n = 0;
    if (raw_eof) return true;
    if (outer) {
      const void* b = nullptr;
      size_t s = 0;
      la_int64_t off = 0;
      int r = archive_read_data_block(outer, &b, &s, &off);
      if (r == ARCHIVE_EOF) { raw_eof = true; return true; }
      if (r < ARCHIVE_WARN) {
        error = archive_error_string(outer) ? archive_error_string(outer) : "read error";
        return false;
      }
      *p = static_cast<const char*>(b);
      *n = s;
      return true;
    }
    if (file_buf.empty()) file_buf.resize(block_size);
    ssize_t r;
    do r = ::read(fd.get(), file_buf.data(), file_buf.size()); while (r < 0 && errno == EINTR);
    if (r < 0) { error = std::strerror(errno); return false; }
    if (r == 0) { raw_eof = true; return true; }
    *p = file_buf.data();
    *n = static_cast<std::size_t>(r);
    return true;
  }

  la_ssize_t read(const void** buf) {
    const char* p = nullptr;
    std::size_t n = 0;
    if (!probed) {
      probed = true;
      if (!raw_next(&p, &n)) return -1;
      xz = n >= 6 && std::memcmp(p, "\xfd" "7zXZ\0", 6) == 0;
      if (xz && !start_xz()) return -1;
      if (!xz) { *buf = p; return static_cast<la_ssize_t>(n); }
      lz.next_in = reinterpret_cast<const uint8_t*>(p);
      lz.avail_in = n;
    }
    if (!xz) {
      if (!raw_next(&p, &n)) return -1;
      *buf = p;
      return static_cast<la_ssize_t>(n);
    }
    if (out.empty()) out.resize(block_size);
    lz.next_out = reinterpret_cast<uint8_t*>(out.data());
    lz.avail_out = out.size();
    while (lz.avail_out == out.size()) {
      if (lz.avail_in == 0 && !raw_eof) {
        if (!raw_next(&p, &n)) return -1;
        lz.next_in = reinterpret_cast<const uint8_t*>(p);
        lz.avail_in = n;
      }
      lzma_ret r = lzma_code(&lz, raw_eof ? LZMA_FINISH : LZMA_RUN);
      if (r == LZMA_STREAM_END) break;
      if (r != LZMA_OK) {
        error = r == LZMA_BUF_ERROR ? "xz stream truncated" : fmt::format("xz data corrupt (liblzma error {})", static_cast<int>(r));
        return -1;
      }
    }
    *buf = out.data();
    return static_cast<la_ssize_t>(out.size() - lz.avail_out);
  }

  bool start_xz() {
    lzma_mt mt{};
    mt.threads = std::max(1u, std::min(std::thread::hardware_concurrency(), 8u));
    mt.flags = LZMA_CONCATENATED;
    mt.memlimit_threading = std::uint64_t{1} << 30;
    mt.memlimit_stop = UINT64_MAX;
    if (lzma_stream_decoder_mt(&lz, &mt) != LZMA_OK) { error = "cannot start the xz decoder"; return false; }
    return true;
  }
};

namespace {

la_ssize_t feeder_read(archive* a, void* client, const void** buf) {
  auto* f = static_cast<ArchiveStream::Feeder*>(client);
  la_ssize_t n = f->read(buf);
  if (n < 0) archive_set_error(a, EIO, "%s", f->error.c_str());
  return n;
}

ArchiveReader new_reader() {
  ArchiveReader a(archive_read_new());
  if (!a) throw Error("libarchive: out of memory");
  return a;
}

} // namespace

// libarchive's message, or a stand-in: it is null for some failures, and a null
// char* cannot be formatted.
static const char* why(archive* a) {
  const char* m = archive_error_string(a);
  return m ? m : "unknown error";
}

ArchiveStream::ArchiveStream(const std::filesystem::path& path, SourceKind kind) : path_(path) {
  reader_ = new_reader();
  if (kind == SourceKind::iso) {
    archive_read_support_format_iso9660(reader_.get());
    if (archive_read_open_filename(reader_.get(), path.c_str(), block_size) != ARCHIVE_OK) fail("open");
    return;
  }
  feeder_ = std::make_unique<Feeder>();
  if (kind == SourceKind::deb) {
    outer_ = new_reader();
    archive_read_support_format_ar(outer_.get());
    if (archive_read_open_filename(outer_.get(), path.c_str(), block_size) != ARCHIVE_OK)
      throw Error(fmt::format("cannot open {}: {}", path.string(), why(outer_.get())), std::string(corrupt_hint));
    archive_entry* e = nullptr;
    for (;;) {
      int r = archive_read_next_header(outer_.get(), &e);
      if (r == ARCHIVE_EOF)
        throw Error(fmt::format("{} is an ar archive without a data.tar member: not a Debian package", path.string()),
                    std::string(corrupt_hint));
      if (r < ARCHIVE_WARN)
        throw Error(fmt::format("cannot read {}: {}", path.string(), why(outer_.get())),
                    std::string(corrupt_hint));
      const char* name = archive_entry_pathname(e);
      if (name && std::string_view(name).starts_with("data.tar")) break;
    }
    feeder_->outer = outer_.get();
  } else {
    feeder_->fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!feeder_->fd) throw Error::from_errno("cannot open", path);
  }
  archive_read_support_format_tar(reader_.get());
  archive_read_support_filter_all(reader_.get());
  if (archive_read_open(reader_.get(), feeder_.get(), nullptr, feeder_read, nullptr) != ARCHIVE_OK) fail("open");
}

ArchiveStream::~ArchiveStream() = default;

archive_entry* ArchiveStream::next() {
  archive_entry* e = nullptr;
  int r = archive_read_next_header(reader_.get(), &e);
  if (r == ARCHIVE_EOF) return nullptr;
  if (r < ARCHIVE_WARN) fail("read");
  return e;
}

void ArchiveStream::skip() {
  if (archive_read_data_skip(reader_.get()) < ARCHIVE_WARN) fail("read");
}

void ArchiveStream::fail(std::string_view what) const {
  const char* msg = archive_error_string(reader_.get());
  std::string detail = feeder_ && !feeder_->error.empty() ? feeder_->error : msg ? msg : "unknown error";
  throw Error(fmt::format("cannot {} {}: {}", what, path_.string(), detail), std::string(corrupt_hint));
}

} // namespace qb::kernel
