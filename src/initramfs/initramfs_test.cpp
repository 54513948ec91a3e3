#include <catch2/catch.hpp>

#include <algorithm>

#include "core/error.hpp"
#include "initramfs/cpio_archive.hpp"
#include "initramfs/lz4_legacy.hpp"
#include "initramfs/module_closure.hpp"

using namespace qb;
using namespace qb::initramfs;

namespace {
// The names in a newc archive, in order.
std::vector<std::string> names(const std::string& a) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos + 110 <= a.size() && a.compare(pos, 6, "070701") == 0) {
    auto field = [&](int i) { return std::stoul(a.substr(pos + 6 + 8 * i, 8), nullptr, 16); };
    std::size_t size = field(6), namesize = field(11);
    out.push_back(a.substr(pos + 110, namesize - 1));
    pos = (pos + 110 + namesize + 3) & ~std::size_t{3};
    pos = (pos + size + 3) & ~std::size_t{3};
  }
  return out;
}
std::string field_of(const std::string& a, const std::string& name, int i) {
  std::size_t pos = 0;
  while (pos + 110 <= a.size()) {
    auto f = [&](int k) { return std::stoul(a.substr(pos + 6 + 8 * k, 8), nullptr, 16); };
    std::size_t size = f(6), namesize = f(11);
    if (a.substr(pos + 110, namesize - 1) == name) return a.substr(pos + 6 + 8 * i, 8);
    pos = (pos + 110 + namesize + 3) & ~std::size_t{3};
    pos = (pos + size + 3) & ~std::size_t{3};
  }
  return {};
}
} // namespace

TEST_CASE("cpio: parents first, sorted, unique inodes, owner 0, deterministic") {
  CpioArchive a;
  a.add_file("usr/lib/modules/x/kernel/fs/9p.ko", "module");
  a.add_symlink("bin", "usr/bin");
  a.add_file("init", "#!/bin/sh\n", 0755);
  a.add_char_device("dev/console", 5, 1, 0600);
  std::string out = a.write(Compression::none);
  auto n = names(out);
  REQUIRE(n.back() == "TRAILER!!!");
  CHECK(n == std::vector<std::string>{"bin", "dev", "dev/console", "init", "usr", "usr/lib", "usr/lib/modules",
                                      "usr/lib/modules/x", "usr/lib/modules/x/kernel", "usr/lib/modules/x/kernel/fs",
                                      "usr/lib/modules/x/kernel/fs/9p.ko", "TRAILER!!!"});
  CHECK(field_of(out, "init", 0) != field_of(out, "bin", 0));       // inode numbers differ
  CHECK(field_of(out, "init", 2) == "00000000");                    // uid 0
  CHECK(field_of(out, "init", 4) == "00000001");                    // nlink 1
  CHECK(field_of(out, "dev/console", 9) == "00000005");             // rdevmajor
  CHECK(out.size() % 4 == 0);
  CHECK(out == a.write(Compression::none));
}

TEST_CASE("cpio: adding a path twice keeps the last; names are normalised") {
  CpioArchive a;
  a.add_file("/etc/x", "one");
  a.add_file("etc/x/", "two");
  CHECK(a.size() == 2);  // etc, etc/x
  CHECK(a.write(Compression::none).find("two") != std::string::npos);
  CHECK_THROWS_AS(parse_compression("bz3"), Error);
  CHECK(parse_compression("zstd") == Compression::zstd);
}

TEST_CASE("lz4 legacy frame: magic and block sizes") {
  std::string data(100000, 'q');
  std::string out = lz4_legacy_compress(data);
  REQUIRE(out.size() > 8);
  CHECK(static_cast<unsigned char>(out[0]) == 0x02);
  CHECK(static_cast<unsigned char>(out[3]) == 0x18);
  std::uint32_t block = static_cast<unsigned char>(out[4]) | static_cast<unsigned char>(out[5]) << 8 |
                        static_cast<unsigned char>(out[6]) << 16 | static_cast<unsigned char>(out[7]) << 24;
  CHECK(block == out.size() - 8);
}

TEST_CASE("modules.dep lists transitive dependencies, last loaded first") {
  std::vector<ModuleFile> mods = {
      {"virtio", "/m/virtio.ko", "kernel/virtio.ko", {}},
      {"virtio_ring", "/m/virtio_ring.ko", "kernel/virtio_ring.ko", {"virtio"}},
      {"9pnet_virtio", "/m/9pnet_virtio.ko.xz", "kernel/9pnet_virtio.ko", {"virtio_ring"}},
  };
  std::string dep = render_modules_dep(mods);
  CHECK(dep.find("kernel/9pnet_virtio.ko: kernel/virtio_ring.ko kernel/virtio.ko\n") != std::string::npos);
  CHECK(dep.find("kernel/virtio.ko:\n") != std::string::npos);
  CHECK(module_rel_path("kernel/a.ko.zst") == "kernel/a.ko");
  CHECK(module_rel_path("kernel/a.txt").empty());
  CHECK(ModuleTree::normalise("virtio-pci") == "virtio_pci");
}

TEST_CASE("cpio: paths go through known symlinks; no directory entry replaces one") {
  CpioArchive o;
  o.assume_symlink("lib", "usr/lib");
  o.assume_symlink("lib64", "usr/lib");
  o.assume_symlink("usr/sbin", "bin");
  o.add_file("/lib/x86_64-linux-gnu/libc.so.6", "libc", 0755);
  o.add_file("/lib64/ld-linux-x86-64.so.2", "ld", 0755);
  o.add_file("/usr/sbin/tool", "tool", 0755);
  o.add_dir("/lib/modprobe.d");
  o.add_dir("/lib");  // a directory that is a link to one: nothing new
  o.add_symlink("/etc/alt", "/lib/x86_64-linux-gnu");
  o.add_file("/etc/alt/libz.so", "z");  // through the archive's own absolute link
  auto n = names(o.write(Compression::none));
  for (const char* link : {"lib", "lib64", "usr/sbin", "lib/x86_64-linux-gnu", "etc/alt/libz.so"})
    CHECK(std::find(n.begin(), n.end(), link) == n.end());
  for (const char* want : {"usr/lib/x86_64-linux-gnu/libc.so.6", "usr/lib/ld-linux-x86-64.so.2", "usr/bin/tool",
                           "usr/lib/modprobe.d", "etc/alt", "usr/lib/x86_64-linux-gnu/libz.so"})
    CHECK(std::find(n.begin(), n.end(), want) != n.end());
  CHECK(o.contains("lib/x86_64-linux-gnu/libc.so.6"));
  o.assume_symlink("usr/up", "../../../etc");
  CHECK(o.resolve("usr/up/x") == "etc/x");  // a link's `..` stops at the root
  CHECK_THROWS_AS(o.add_file("../../x", "x"), Error);
  CHECK_THROWS_AS(o.add_file("etc/../../x", "x"), Error);
  CHECK_THROWS_AS(o.add_file("/", "x"), Error);
}

TEST_CASE("archive_complete: a cache file cut short is told from a whole one") {
  CpioArchive a;
  a.add_file("etc/x", std::string(100000, 'x'));
  for (auto c : {Compression::none, Compression::zstd}) {
    INFO(to_string(c));
    const std::string whole = a.write(c);
    CHECK(archive_complete(whole, c));
    CHECK_FALSE(archive_complete(whole.substr(0, whole.size() / 2), c));
    CHECK_FALSE(archive_complete("", c));
    CHECK_FALSE(archive_complete(std::string(whole.size(), '\0'), c));
  }
}
