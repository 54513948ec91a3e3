#include "kernel/decompress.hpp"

#include <archive.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <memory>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/fd.hpp"

namespace qb::kernel {

namespace {

constexpr std::size_t chunk = 1 << 20;

// No kernel's vmlinux comes near this (Debian's is about 60 MB; an allyesconfig build
// a few hundred): a payload that decompresses to more is damaged or hostile (an
// 8 GB stream of zeros fits in a 300 KB zstd frame), and is refused before it takes
// that memory.
constexpr std::size_t max_vmlinux = std::size_t{512} << 20;

// The xz/lzma header names the dictionary the decoder must allocate, up to 4 GiB, before
// a byte of output: a forged header would take that memory at once. xz -9 needs 65 MiB
// and kernels are built with far smaller dictionaries; 256 MiB refuses only forgeries.
constexpr std::uint64_t max_lzma_memory = std::uint64_t{256} << 20;

[[noreturn]] void too_large(std::string_view what, Compression c) {
  throw Error(fmt::format("cannot decompress {}: its {} payload grows past {} MiB, larger than any kernel", what,
                          compression_name(c), max_vmlinux >> 20),
              "this is not a usable kernel image (damaged, or made to exhaust memory)");
}

[[noreturn]] void corrupt(std::string_view what, Compression c, std::string_view detail) {
  throw Error(fmt::format("cannot decompress {}: the {} stream is corrupt or truncated ({})", what,
                          compression_name(c), detail),
              "the kernel image is damaged; copy or download it again");
}

// Grows `out` so at least `chunk` bytes are free after `used` (never past
// max_vmlinux + chunk: the callers check `used` against the cap).
char* room(std::string& out, std::size_t used) {
  if (out.size() < used + chunk) out.resize(std::min(std::max(out.size() * 2, used + chunk), max_vmlinux + chunk));
  return out.data() + used;
}

std::string gunzip(std::string_view in, std::size_t hint, std::string_view what) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) throw Error("zlib: cannot initialise the gzip decoder");
  std::unique_ptr<z_stream, Deleter<inflateEnd>> guard(&z);
  std::string out(hint ? hint : chunk, '\0');
  std::size_t used = 0;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(room(out, used));
    z.avail_out = static_cast<uInt>(out.size() - used);
    int r = inflate(&z, Z_NO_FLUSH);
    used = out.size() - z.avail_out;
    if (r == Z_STREAM_END) break;
    if (used > max_vmlinux) too_large(what, Compression::gzip);
    if (r != Z_OK) corrupt(what, Compression::gzip, z.msg ? z.msg : "inflate failed");
    if (z.avail_in == 0 && z.avail_out != 0) corrupt(what, Compression::gzip, "unexpected end of data");
  }
  out.resize(used);
  return out;
}

std::string unxz(std::string_view in, std::size_t hint, std::string_view what, Compression c) {
  lzma_stream s = LZMA_STREAM_INIT;
  lzma_ret r = c == Compression::xz ? lzma_stream_decoder(&s, max_lzma_memory, 0)
                                    : lzma_alone_decoder(&s, max_lzma_memory);
  if (r != LZMA_OK) throw Error("liblzma: cannot initialise the decoder");
  std::unique_ptr<lzma_stream, Deleter<lzma_end>> guard(&s);
  std::string out(hint ? hint : chunk, '\0');
  std::size_t used = 0;
  s.next_in = reinterpret_cast<const uint8_t*>(in.data());
  s.avail_in = in.size();
  for (;;) {
    s.next_out = reinterpret_cast<uint8_t*>(room(out, used));
    s.avail_out = out.size() - used;
    r = lzma_code(&s, s.avail_in ? LZMA_RUN : LZMA_FINISH);
    used = out.size() - s.avail_out;
    if (r == LZMA_STREAM_END) break;
    if (used > max_vmlinux) too_large(what, c);
    if (r == LZMA_MEMLIMIT_ERROR)
      throw Error(fmt::format("cannot decompress {}: its {} header asks for a dictionary over {} MiB, which no "
                              "kernel uses", what, compression_name(c), max_lzma_memory >> 20),
                  "this is not a usable kernel image (damaged, or made to exhaust memory)");
    if (r != LZMA_OK) corrupt(what, c, fmt::format("liblzma error {}", static_cast<int>(r)));
  }
  out.resize(used);
  return out;
}

std::string unzstd(std::string_view in, std::size_t hint, std::string_view what) {
  std::unique_ptr<ZSTD_DCtx, Deleter<ZSTD_freeDCtx>> ctx(ZSTD_createDCtx());
  if (!ctx) throw Error("libzstd: cannot initialise the decoder");
  std::string out(hint ? hint : chunk, '\0');
  std::size_t used = 0;
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  for (;;) {
    char* p = room(out, used);
    ZSTD_outBuffer ob{p, out.size() - used, 0};
    std::size_t r = ZSTD_decompressStream(ctx.get(), &ob, &ib);
    used += ob.pos;
    if (ZSTD_isError(r)) corrupt(what, Compression::zstd, ZSTD_getErrorName(r));
    if (r == 0) break;  // frame complete
    if (used > max_vmlinux) too_large(what, Compression::zstd);
    if (ib.pos == ib.size && ob.pos < ob.size) corrupt(what, Compression::zstd, "unexpected end of data");
  }
  out.resize(used);
  return out;
}

// bzip2, lz4 (legacy frames) and lzop through libarchive's filters on a raw stream.
std::string via_libarchive(std::string_view in, std::size_t hint, std::string_view what, Compression c) {
  std::unique_ptr<archive, Deleter<archive_read_free>> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  archive_entry* e = nullptr;
  if (archive_read_open_memory(a.get(), in.data(), in.size()) != ARCHIVE_OK ||
      archive_read_next_header(a.get(), &e) != ARCHIVE_OK)
    corrupt(what, c, archive_error_string(a.get()) ? archive_error_string(a.get()) : "unrecognised");
  std::string out(hint ? hint : chunk, '\0');
  std::size_t used = 0;
  for (;;) {
    char* p = room(out, used);
    la_ssize_t n = archive_read_data(a.get(), p, out.size() - used);
    if (n < 0) {
      // lz4 legacy and lzop frames may be followed by the size word; keep what we got.
      if (used > 0 && c != Compression::bzip2) break;
      corrupt(what, c, archive_error_string(a.get()) ? archive_error_string(a.get()) : "read failed");
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
    if (used > max_vmlinux) too_large(what, c);
  }
  out.resize(used);
  return out;
}

} // namespace

std::string decompress(Compression c, std::string_view data, std::size_t size_hint, std::string_view what) {
  if (size_hint > max_vmlinux) size_hint = 0;  // not a plausible kernel: don't trust it
  if (c == Compression::none && data.size() > max_vmlinux) too_large(what, c);
  switch (c) {
  case Compression::gzip: return gunzip(data, size_hint, what);
  case Compression::xz:
  case Compression::lzma: return unxz(data, size_hint, what, c);
  case Compression::zstd: return unzstd(data, size_hint, what);
  case Compression::bzip2:
  case Compression::lz4:
  case Compression::lzo: return via_libarchive(data, size_hint, what, c);
  case Compression::none: return std::string(data);
  case Compression::unknown: break;
  }
  std::string magic;
  for (unsigned char ch : data.substr(0, 6)) magic += fmt::format("{:02x}", ch);
  throw Error(fmt::format("cannot decompress {}: unknown payload compression (magic {})", what, magic),
              "quickboot reads gzip, xz, lzma, zstd, bzip2, lz4 and lzo kernels");
}

} // namespace qb::kernel
