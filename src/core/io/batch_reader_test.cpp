#include "core/io/batch_reader.hpp"

#include <fcntl.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "core/file_util.hpp"
#include "core/sha256.hpp"

using namespace qb;
using namespace qb::io;

namespace {

struct Result {
  std::string digest;  // hex, or "error:<errno>"
  std::size_t chunks = 0;
};

std::vector<Result> read_all(Backend b, const std::vector<std::string>& paths, std::size_t chunk, unsigned depth,
                             const std::vector<std::uint64_t>& hints) {
  ReaderOptions o;
  o.backend = b;
  o.chunk_size = chunk;
  o.depth = depth;
  BatchReader r(o);
  REQUIRE(r.backend() == b);
  std::vector<FileRequest> req;
  for (std::size_t i = 0; i < paths.size(); ++i) req.push_back({paths[i].c_str(), hints[i]});
  std::vector<Sha256> h(paths.size());
  std::vector<Result> out(paths.size());
  std::vector<bool> ended(paths.size(), false);
  r.read(req, [&](const Chunk& c) {
    REQUIRE_FALSE(ended[c.file]);  // nothing after the last chunk
    ++out[c.file].chunks;
    if (c.error) out[c.file].digest = "error:" + std::to_string(c.error);
    else h[c.file].update(c.data.data(), c.data.size());
    if (c.last) {
      ended[c.file] = true;
      if (!c.error) out[c.file].digest = to_hex(h[c.file].finish());
    }
  });
  for (bool e : ended) CHECK(e);
  return out;
}

} // namespace

TEST_CASE("io_uring and pread backends deliver the same bytes") {
  auto dir = make_temp_dir(std::filesystem::temp_directory_path(), "qb-io-test");
  const std::size_t chunk = 4096;
  std::vector<std::size_t> sizes = {0, 1, 100, chunk - 1, chunk, chunk + 1, 3 * chunk + 5, 1 << 20};
  std::vector<std::string> paths;
  std::vector<std::string> want;
  std::vector<std::uint64_t> hints;
  for (int rep = 0; rep < 5; ++rep)
    for (std::size_t s : sizes) {
      std::string content(s, '\0');
      for (std::size_t i = 0; i < s; ++i) content[i] = static_cast<char>((i * 7 + s + rep) & 0xff);
      auto p = dir / ("f" + std::to_string(rep) + "_" + std::to_string(s));
      write_file_atomic(p, content);
      paths.push_back(p.string());
      want.push_back(to_hex(sha256(content)));
      // Wrong hints on purpose for rep 1: the reader must cope with files larger or
      // smaller than their stat said.
      hints.push_back(rep == 1 ? (s > chunk ? 0 : chunk * 2) : s);
    }
  paths.push_back((dir / "missing").string());
  want.push_back("error:2");
  hints.push_back(0);
  paths.push_back(dir.string());  // a directory: opens, then read fails with EISDIR
  want.push_back("error:21");
  hints.push_back(0);

  for (unsigned depth : {1u, 4u, 32u}) {
    auto a = read_all(Backend::pread, paths, chunk, depth, hints);
    auto b = read_all(Backend::uring, paths, chunk, depth, hints);
    for (std::size_t i = 0; i < paths.size(); ++i) {
      INFO(paths[i] << " depth " << depth);
      CHECK(a[i].digest == want[i]);
      CHECK(b[i].digest == want[i]);
    }
  }
  remove_all_quiet(dir);
}

TEST_CASE("files below the chunk size arrive in one chunk") {
  auto dir = make_temp_dir(std::filesystem::temp_directory_path(), "qb-io-test");
  write_file_atomic(dir / "a", "hello");
  write_file_atomic(dir / "e", "");
  std::vector<std::string> paths = {(dir / "a").string(), (dir / "e").string()};
  for (Backend b : {Backend::pread, Backend::uring}) {
    auto r = read_all(b, paths, 4096, 8, {5, 0});
    CHECK(r[0].chunks == 1);
    CHECK(r[1].chunks == 1);
    CHECK(r[0].digest == to_hex(sha256("hello")));
  }
  remove_all_quiet(dir);
}

TEST_CASE("QUICKBOOT_NO_IO_URING forces the fallback") {
  ::setenv("QUICKBOOT_NO_IO_URING", "1", 1);
  CHECK(resolve_backend(Backend::automatic) == Backend::pread);
  ::unsetenv("QUICKBOOT_NO_IO_URING");
}

TEST_CASE("relative paths resolve against root_fd") {
  auto dir = make_temp_dir(std::filesystem::temp_directory_path(), "qb-io-test");
  write_file_atomic(dir / "x", "xyz");
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (Backend b : {Backend::pread, Backend::uring}) {
    ReaderOptions o;
    o.backend = b;
    o.root_fd = fd;
    BatchReader r(o);
    FileRequest req{"x", 3};
    std::string got;
    r.read({&req, 1}, [&](const Chunk& c) { got.append(reinterpret_cast<const char*>(c.data.data()), c.data.size()); });
    CHECK(got == "xyz");
  }
  ::close(fd);
  remove_all_quiet(dir);
}
