#include <sys/stat.h>
#include <fcntl.h>

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "core/file_util.hpp"
#include "initramfs/image_install.hpp"

using namespace qb;
using namespace qb::initramfs;

namespace {
struct TempDir {
  fs::path dir = make_temp_dir(fs::temp_directory_path(), "qb-install-test");
  ~TempDir() { remove_all_quiet(dir); }
};
ino_t inode(const fs::path& p) {
  struct stat st{};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_ino;
}
} // namespace

TEST_CASE("install_image: copies, then leaves an untouched output alone") {
  TempDir t;
  const fs::path image = t.dir / "cache.img", out = t.dir / "out.img";
  write_file_atomic(image, "image one");
  CHECK(install_image(image, out));
  CHECK(read_file(out) == "image one");
  const auto first = inode(out);
  CHECK_FALSE(install_image(image, out));  // same image, output as we left it
  CHECK(inode(out) == first);

  SECTION("an output edited in place, mtime put back, is copied again") {
    struct stat st{};
    REQUIRE(::stat(out.c_str(), &st) == 0);
    // File times move in clock ticks (a few ms): an edit in the install's own tick
    // would keep its ctime. This pause is the edit's distance from the install, not a
    // window for something to finish.
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    { std::FILE* f = std::fopen(out.c_str(), "r+"); REQUIRE(f); std::fputs("IMAGE", f); std::fclose(f); }
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    REQUIRE(::utimensat(AT_FDCWD, out.c_str(), times, 0) == 0);
    CHECK(install_image(image, out));
    CHECK(read_file(out) == "image one");
  }
  SECTION("a removed output is copied again") {
    fs::remove(out);
    CHECK(install_image(image, out));
    CHECK(read_file(out) == "image one");
  }
  SECTION("a rebuilt image is copied") {
    write_file_atomic(image, "image two");
    CHECK(install_image(image, out));
    CHECK(read_file(out) == "image two");
  }
  SECTION("the same image to a second output is copied; both stay recorded") {
    const fs::path other = t.dir / "other.img";
    CHECK(install_image(image, other));
    CHECK_FALSE(install_image(image, other));
    CHECK_FALSE(install_image(image, out));
  }
  SECTION("a damaged stamp only costs a copy") {
    write_file_atomic(image.string() + ".installed", "garbage\nno tabs\n\t\t\n");
    CHECK(install_image(image, out));
    CHECK_FALSE(install_image(image, out));
  }
}
