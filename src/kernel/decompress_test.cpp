#include <archive.h>
#include <archive_entry.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <memory>

#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "kernel/decompress.hpp"

using namespace qb::kernel;

namespace {

std::string sample() {
  std::string s = "\x7f" "ELF";
  for (int i = 0; i < 20000; ++i) s += "kernel text " + std::to_string(i * 7 % 1000) + "\n";
  return s;
}

std::string gzip(const std::string& in) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string xz(const std::string& in, bool alone) {
  lzma_stream s = LZMA_STREAM_INIT;
  lzma_options_lzma opt{};
  lzma_lzma_preset(&opt, 1);
  REQUIRE((alone ? lzma_alone_encoder(&s, &opt) : lzma_easy_encoder(&s, 1, LZMA_CHECK_CRC32)) == LZMA_OK);
  std::string out(in.size() + 4096, '\0');
  s.next_in = reinterpret_cast<const uint8_t*>(in.data());
  s.avail_in = in.size();
  s.next_out = reinterpret_cast<uint8_t*>(out.data());
  s.avail_out = out.size();
  REQUIRE(lzma_code(&s, LZMA_FINISH) == LZMA_STREAM_END);
  out.resize(s.total_out);
  lzma_end(&s);
  return out;
}

std::string zstd(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  auto n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  REQUIRE(!ZSTD_isError(n));
  out.resize(n);
  return out;
}

// bzip2 through libarchive's raw writer.
std::string via_archive(const std::string& in, int (*add_filter)(archive*)) {
  std::unique_ptr<archive, qb::Deleter<archive_write_free>> a(archive_write_new());
  archive_write_set_format_raw(a.get());
  add_filter(a.get());
  archive_write_set_bytes_in_last_block(a.get(), 1);
  std::string out(in.size() + 65536, '\0');
  size_t used = 0;
  REQUIRE(archive_write_open_memory(a.get(), out.data(), out.size(), &used) == ARCHIVE_OK);
  std::unique_ptr<archive_entry, qb::Deleter<archive_entry_free>> e(archive_entry_new());
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_pathname(e.get(), "vmlinux");
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(in.size()));
  REQUIRE(archive_write_header(a.get(), e.get()) == ARCHIVE_OK);
  REQUIRE(archive_write_data(a.get(), in.data(), in.size()) == static_cast<la_ssize_t>(in.size()));
  REQUIRE(archive_write_close(a.get()) == ARCHIVE_OK);
  out.resize(used);
  return out;
}

// An lz4 legacy frame (what the kernel's `lz4 -l` writes; libarchive can only write the
// newer frame format) holding one literals-only block, which is valid LZ4.
std::string lz4_legacy(const std::string& in) {
  std::string block(1, '\xf0');
  std::size_t rest = in.size() - 15;
  for (; rest >= 255; rest -= 255) block += '\xff';
  block += static_cast<char>(rest);
  block += in;
  std::uint32_t magic = 0x184C2102, size = static_cast<std::uint32_t>(block.size());
  std::string out(reinterpret_cast<const char*>(&magic), 4);
  out.append(reinterpret_cast<const char*>(&size), 4);
  return out + block;
}

} // namespace

TEST_CASE("decompress: every kernel compressor, trailing size word tolerated") {
  const std::string plain = sample();
  const std::string tail("\x01\x02\x03\x04", 4);  // the kernel appends the size as u32
  struct Case { Compression c; std::string data; };
  std::vector<Case> cases = {
      {Compression::gzip, gzip(plain)},
      {Compression::xz, xz(plain, false)},
      {Compression::lzma, xz(plain, true)},
      {Compression::zstd, zstd(plain)},
      {Compression::bzip2, via_archive(plain, archive_write_add_filter_bzip2)},
      {Compression::lz4, lz4_legacy(plain)},
  };
  for (auto& tc : cases) {
    INFO(compression_name(tc.c));
    CHECK(detect_compression(tc.data) == tc.c);
    CHECK(decompress(tc.c, tc.data + tail, plain.size(), "test") == plain);
    CHECK(decompress(tc.c, tc.data, 0, "test") == plain);  // no size hint
  }
}

TEST_CASE("decompress: truncated or corrupt data is an Error naming the image") {
  const std::string plain = sample();
  for (auto c : {Compression::gzip, Compression::xz, Compression::zstd}) {
    std::string data = c == Compression::gzip ? gzip(plain) : c == Compression::xz ? xz(plain, false) : zstd(plain);
    INFO(compression_name(c));
    try {
      decompress(c, data.substr(0, data.size() / 2), 0, "bzImage-x");
      FAIL("no error");
    } catch (const qb::Error& e) {
      CHECK_THAT(e.what(), Catch::Contains("cannot decompress bzImage-x"));
    }
  }
  CHECK_THROWS_AS(decompress(Compression::unknown, "abcdef", 0, "x"), qb::Error);
}

TEST_CASE("decompress: an lzma header asking for a 4 GiB dictionary is refused before allocating it") {
  // .lzma ("alone") header: properties byte, dictionary size (LE32), uncompressed size
  // (LE64, unknown). The fuzzer's find: liblzma allocated the named dictionary at once.
  std::string forged("\x5d\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff", 13);
  forged += std::string(64, '\0');
  try {
    decompress(Compression::lzma, forged, 0, "bzImage-forged");
    FAIL("no error");
  } catch (const qb::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("bzImage-forged") && Catch::Contains("dictionary"));
  }
}
