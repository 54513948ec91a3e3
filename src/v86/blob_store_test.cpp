#define ZSTD_STATIC_LINKING_ONLY
#include "v86/blob_store.hpp"

#include <zstd.h>

#include <catch2/catch.hpp>

#include "core/file_util.hpp"

using namespace qb;
using namespace qb::v86;

namespace {
std::span<const std::byte> bytes(const std::string& s) { return {reinterpret_cast<const std::byte*>(s.data()), s.size()}; }
}

TEST_CASE("zstd blobs: one frame, content size recorded, window <= 2^27") {
  std::string data;
  for (int i = 0; i < 300000; ++i) data += std::to_string(i % 10007);
  for (int level : {1, 19, 22}) {
    Compressor c(level);
    std::string z;
    c.compress(bytes(data), z);
    ZSTD_frameHeader h{};
    REQUIRE(ZSTD_getFrameHeader(&h, z.data(), z.size()) == 0);
    CHECK(h.frameContentSize == data.size());
    CHECK(h.windowSize <= (1ull << 27));
    CHECK(h.dictID == 0);
    CHECK(ZSTD_findFrameCompressedSize(z.data(), z.size()) == z.size());  // exactly one frame
  }
}

TEST_CASE("blob store: equal contents share a blob, collisions get the long name") {
  auto dir = make_temp_dir(std::filesystem::temp_directory_path(), "qb-blob-test");
  BlobStore s(dir, 0, std::vector<BlobRecord>{}, std::unordered_set<std::string>{});
  std::string a = "aaa", b = "bbb";
  Digest da = sha256(a);
  CHECK(s.put(da, bytes(a), nullptr) == to_hex(da).substr(0, 8) + ".bin");
  CHECK(s.put(da, bytes(a), nullptr) == to_hex(da).substr(0, 8) + ".bin");
  CHECK(s.added().size() == 1);
  // A different content whose digest shares the 8-hex prefix (forged digest: the
  // store trusts the digest it is given, so this stands in for a real collision).
  Digest db = da;
  db[31] ^= 1;
  std::string name = s.put(db, bytes(b), nullptr);
  CHECK(name == to_hex(db) + ".bin");
  CHECK(s.collisions() == 1);
  CHECK(read_file(dir / name) == "bbb");
  CHECK(read_file(dir / (to_hex(da).substr(0, 8) + ".bin")) == "aaa");

  // A blob on disk the store has no record of is verified before it is reused.
  write_file_atomic(dir / (to_hex(sha256("ccc")).substr(0, 8) + ".bin"), "not ccc");
  std::unordered_set<std::string> disk = {to_hex(sha256("ccc")).substr(0, 8) + ".bin"};
  BlobStore s2(dir, 0, std::vector<BlobRecord>{}, disk);
  std::string n2 = s2.put(sha256("ccc"), bytes("ccc"), nullptr);
  CHECK(n2 == to_hex(sha256("ccc")) + ".bin");
  CHECK(blob_file_digest(dir / n2) == sha256("ccc"));
  remove_all_quiet(dir);
}

TEST_CASE("blob names") {
  CHECK(is_blob_name("e3b0c442.bin"));
  CHECK(is_blob_name("e3b0c442.bin.zst"));
  CHECK_FALSE(is_blob_name("fs.json"));
  CHECK_FALSE(is_blob_name("e3b0c442.bin.tmp.abcdef"));
}
