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

#include <cstdlib>
#include <cstring>

#include "core/process.hpp"
#include "kernel/archive_stream.hpp"
#include "kernel/vmlinux.hpp"

namespace {

// A synthetic bzImage: 1 setup sector, protocol 2.15, the given payload and version.
std::string fake_bzimage(const std::string& payload, const std::string& version) {
  std::string d(1024 + 512, '\0');
  d[0x1f1] = 1;  // setup_sects: protected-mode code at 1024
  std::memcpy(&d[0x202], "HdrS", 4);
  std::uint16_t proto = 0x020f, ver_off = 0x300 - 0x200, xlf = 1;
  std::memcpy(&d[0x206], &proto, 2);
  std::memcpy(&d[0x20e], &ver_off, 2);
  std::memcpy(&d[0x236], &xlf, 2);
  std::memcpy(&d[0x300], version.c_str(), version.size() + 1);
  std::uint32_t off = 0x100, len = static_cast<std::uint32_t>(payload.size());
  std::memcpy(&d[0x248], &off, 4);
  std::memcpy(&d[0x24c], &len, 4);
  d.resize(1024 + off);
  return d + payload + std::string(64, '\0');
}

// The real Debian package's vmlinuz, read with ArchiveStream (as `kernel add` does).
std::string real_vmlinuz(const char* flavour) {
  std::string src = std::getenv("QB_SOURCE_DIR") ? std::getenv("QB_SOURCE_DIR") : QB_SOURCE_DIR;
  auto r = qb::run_capture({src + "/kernels/debian.sh", flavour});
  REQUIRE(r.exit_code == 0);
  std::string deb = r.out.substr(0, r.out.find('\n'));
  ArchiveStream s(deb, qb::kernel::SourceKind::deb);
  while (auto* e = s.next()) {
    std::string_view name = archive_entry_pathname(e);
    if (name.find("boot/vmlinuz-") != std::string_view::npos) {
      std::string data;
      s.read_data([&](const char* p, std::size_t n, std::int64_t) { data.append(p, n); });
      return data;
    }
    s.skip();
  }
  FAIL("no vmlinuz in " << deb);
  return {};
}

} // namespace

TEST_CASE("parse_bzimage: header fields of a synthetic image") {
  std::string payload = std::string("\x28\xb5\x2f\xfd", 4) + "xxxx" + std::string("\x10\x00\x00\x00", 4);
  auto img = fake_bzimage(payload, "6.9.0-test (me@here) #1 SMP");
  auto b = parse_bzimage(img, "fake");
  CHECK(b.release == "6.9.0-test");
  CHECK(b.version == "6.9.0-test (me@here) #1 SMP");
  CHECK(b.protocol == 0x020f);
  CHECK(b.kernel_64);
  CHECK(b.compression == Compression::zstd);
  CHECK(b.payload == payload);
  CHECK(b.uncompressed_size == 16);
}

TEST_CASE("parse_bzimage: truncated and foreign files are Errors naming the file") {
  auto img = fake_bzimage(std::string(100, 'x'), "6.9.0");
  try {
    parse_bzimage(img.substr(0, 1200), "/tmp/cut");
    FAIL("no error");
  } catch (const qb::Error& e) {
    CHECK_THAT(e.what(), Catch::StartsWith("/tmp/cut is truncated"));
  }
  CHECK_THROWS_WITH(parse_bzimage(std::string(4096, 'a'), "/tmp/a"), Catch::Contains("/tmp/a is not a bzImage"));
  CHECK_FALSE(has_boot_header("short"));
}

TEST_CASE("real Debian amd64 kernel: xz payload, x86_64 ELF with the PVH note", "[real]") {
  std::string img = real_vmlinuz("amd64");
  auto b = parse_bzimage(img, "vmlinuz");
  CHECK(b.release.ends_with("-amd64"));
  CHECK(b.compression == Compression::xz);
  auto out = std::filesystem::temp_directory_path() / ("qb-vmlinux-test-" + std::to_string(::getpid()));
  auto r = extract_vmlinux(img, "vmlinuz", out);
  CHECK(r.arch == "x86_64");
  CHECK(r.pvh);
  REQUIRE(r.path);
  CHECK(std::filesystem::file_size(out) == r.size);
  CHECK(r.size == b.uncompressed_size);
  std::filesystem::remove(out);
}

TEST_CASE("real Debian 686 kernel: i686 ELF without the PVH note", "[real]") {
  std::string img = real_vmlinuz("686");
  auto b = parse_bzimage(img, "vmlinuz");
  CHECK(b.release.ends_with("-686"));
  CHECK_FALSE(b.kernel_64);
  auto r = extract_vmlinux(img, "vmlinuz", "/nonexistent/not-written");
  CHECK(r.arch == "i686");
  CHECK_FALSE(r.pvh);
  CHECK_FALSE(r.path);
}
