#include "core/io/batch_reader.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

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
                             const std::vector<std::uint64_t>& hints, int root_fd, bool single_chunk = false) {
  ReaderOptions o;
  o.backend = b;
  o.root_fd = root_fd;
  o.single_chunk = single_chunk;
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
      paths.push_back(p.filename().string());
      want.push_back(to_hex(sha256(content)));
      // Wrong hints on purpose for rep 1: the reader must cope with files larger or
      // smaller than their stat said.
      hints.push_back(rep == 1 ? (s > chunk ? 0 : chunk * 2) : s);
    }
  paths.push_back("missing");
  want.push_back("error:2");
  hints.push_back(0);
  paths.push_back(".");  // a directory: EISDIR
  want.push_back("error:21");
  hints.push_back(0);
  int root = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  for (unsigned depth : {1u, 4u, 32u}) {
    auto a = read_all(Backend::pread, paths, chunk, depth, hints, root);
    auto b = read_all(Backend::uring, paths, chunk, depth, hints, root);
    for (std::size_t i = 0; i < paths.size(); ++i) {
      INFO(paths[i] << " depth " << depth);
      CHECK(a[i].digest == want[i]);
      CHECK(b[i].digest == want[i]);
    }
  }
  ::close(root);
  remove_all_quiet(dir);
}

// Issue 15: a directory on the way swapped for a symlink must not lead out of the
// root; a FIFO must not hang the reader; a file that outgrew its stat size is not
// streamed when the caller asked for single chunks.
TEST_CASE("reads stay beneath root_fd, never hang on a FIFO, and stop at one chunk on request") {
  auto dir = make_temp_dir(std::filesystem::temp_directory_path(), "qb-io-test");
  auto outside = make_temp_dir(std::filesystem::temp_directory_path(), "qb-io-outside");
  std::filesystem::create_directories(dir / "root" / "real");
  write_file_atomic(outside / "secret", "SECRET");
  write_file_atomic(dir / "root" / "real" / "secret", "inside");
  write_file_atomic(dir / "root" / "big", std::string(10000, 'b'));
  std::filesystem::create_directory_symlink(outside, dir / "root" / "link");
  std::filesystem::create_symlink("/etc/hostname", dir / "root" / "abs");
  REQUIRE(::mkfifo((dir / "root" / "fifo").c_str(), 0644) == 0);
  int root = ::open((dir / "root").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  std::vector<std::string> paths = {"link/secret", "real/secret", "abs", "../root/real/secret", "fifo", "big"};
  std::vector<std::uint64_t> hints = {6, 6, 6, 6, 0, 100};
  for (Backend b : {Backend::pread, Backend::uring}) {
    INFO("backend " << backend_name(b));
    auto r = read_all(b, paths, 4096, 4, hints, root, true);
    CHECK(r[0].digest == "error:" + std::to_string(ELOOP));
    CHECK(r[1].digest == to_hex(sha256("inside")));
    CHECK(r[2].digest == "error:" + std::to_string(ELOOP));
    CHECK(r[3].digest == "error:" + std::to_string(EXDEV));
    // A FIFO: pread sees its type; io_uring reads it non-blocking (no writer: end of
    // file). Either way the call returned.
    if (b == Backend::pread) CHECK(r[4].digest == "error:" + std::to_string(not_regular));
    CHECK(r[5].digest == "error:" + std::to_string(too_long));
  }
  ::close(root);
  remove_all_quiet(dir);
  remove_all_quiet(outside);
}

TEST_CASE("files below the chunk size arrive in one chunk") {
  auto dir = make_temp_dir(std::filesystem::temp_directory_path(), "qb-io-test");
  write_file_atomic(dir / "a", "hello");
  write_file_atomic(dir / "e", "");
  std::vector<std::string> paths = {"a", "e"};
  int root = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (Backend b : {Backend::pread, Backend::uring}) {
    auto r = read_all(b, paths, 4096, 8, {5, 0}, root);
    CHECK(r[0].chunks == 1);
    CHECK(r[1].chunks == 1);
    CHECK(r[0].digest == to_hex(sha256("hello")));
  }
  ::close(root);
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
