#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "kernel/bzimage.hpp"

using namespace qb::kernel;

TEST_CASE("detect_compression knows the kernel payload magics") {
  CHECK(detect_compression("\x1f\x8b\x08") == Compression::gzip);
  CHECK(detect_compression(std::string_view("\xfd" "7zXZ\0\0", 7)) == Compression::xz);
  CHECK(detect_compression(std::string_view("\x28\xb5\x2f\xfd", 4)) == Compression::zstd);
  CHECK(detect_compression("BZh91AY") == Compression::bzip2);
  CHECK(detect_compression(std::string_view("\x02\x21\x4c\x18", 4)) == Compression::lz4);
  CHECK(detect_compression(std::string_view("\x5d\x00\x00\x80", 4)) == Compression::lzma);
  CHECK(detect_compression("hello") == Compression::unknown);
}
