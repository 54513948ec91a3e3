#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "serve/http_policy.hpp"
#include "serve/open_beneath.hpp"

using namespace qb::serve;
namespace fs = std::filesystem;

TEST_CASE("content types and cache policy by name") {
  CHECK(content_type("v86.wasm") == "application/wasm");
  CHECK(content_type("fs.json") == "application/json");
  CHECK(content_type("libv86.js") == "text/javascript");
  CHECK(content_type("index.html") == "text/html; charset=utf-8");
  CHECK(content_type("0123abcd.bin") == "application/octet-stream");
  CHECK(content_type("bzImage") == "application/octet-stream");
  CHECK(is_content_named("0123abcd.bin"));
  CHECK(is_content_named("0123abcd.bin.zst"));
  CHECK(is_content_named(std::string(64, 'a') + ".bin"));
  CHECK_FALSE(is_content_named("0123ABCD.bin"));
  CHECK_FALSE(is_content_named("0123abc.bin"));
  CHECK_FALSE(is_content_named("seabios.bin"));
  CHECK_FALSE(is_content_named("fs.json"));
  CHECK(cache_control("fs.json") == "no-cache");
  CHECK(cache_control("0123abcd.bin") == "public, max-age=31536000, immutable");
}

TEST_CASE("Range headers against a length") {
  auto r = parse_range("bytes=0-99", 1000);
  REQUIRE(r);
  CHECK(!r->unsatisfiable);
  CHECK(r->range.first == 0);
  CHECK(r->range.length == 100);
  r = parse_range("bytes=900-5000", 1000);  // clipped at the end
  REQUIRE(r);
  CHECK(r->range.length == 100);
  r = parse_range("bytes=990-", 1000);
  REQUIRE(r);
  CHECK(r->range.first == 990);
  CHECK(r->range.length == 10);
  r = parse_range("bytes=-10", 1000);
  REQUIRE(r);
  CHECK(r->range.first == 990);
  r = parse_range("bytes=-5000", 1000);  // more than the file: all of it
  REQUIRE(r);
  CHECK(r->range.first == 0);
  CHECK(r->range.length == 1000);
  CHECK(parse_range("bytes=1000-", 1000)->unsatisfiable);
  CHECK(parse_range("bytes=18446744073709551615-", 1000)->unsatisfiable);
  CHECK(parse_range("bytes=0-0", 0)->unsatisfiable);
  CHECK(parse_range("bytes=-0", 1000)->unsatisfiable);
  CHECK_FALSE(parse_range("bytes=5-1", 1000));     // invalid: ignored
  CHECK_FALSE(parse_range("bytes=0-1,5-6", 1000)); // several: the whole file
  CHECK_FALSE(parse_range("lines=0-1", 1000));
  CHECK_FALSE(parse_range("bytes=x-1", 1000));
  CHECK_FALSE(parse_range("bytes=99999999999999999999999-", 1000));  // overflow: ignored
}

TEST_CASE("open_beneath serves nothing outside the directory") {
  auto base = fs::temp_directory_path() / ("qb-serve-test-" + std::to_string(::getpid()));
  fs::remove_all(base);
  fs::create_directories(base / "site/sub");
  std::ofstream(base / "secret") << "x";
  std::ofstream(base / "site/fs.json") << "{}";
  std::ofstream(base / "site/sub/index.html") << "<p>";
  fs::create_symlink("../secret", base / "site/link");
  fs::create_symlink("fs.json", base / "site/inner-link");
  int root = ::open((base / "site").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(root >= 0);
  auto status = [&](const char* p) {
    auto r = open_beneath(root, p);
    if (std::holds_alternative<Opened>(r)) return 200;
    return std::get<Refusal>(r).status;
  };
  CHECK(status("/fs.json") == 200);
  CHECK(status("//fs.json") == 200);
  CHECK(status("/./fs.json") == 200);
  CHECK(status("/sub/") == 200);
  CHECK(status("/sub") == 301);
  CHECK(status("/") == 404);  // no index.html at the top
  CHECK(status("/../secret") == 400);
  CHECK(status("/sub/../../secret") == 400);
  CHECK(status("/sub/..") == 400);
  CHECK(status("/link") == 403);
  CHECK(status("/inner-link") == 403);
  CHECK(status("/.hidden") == 404);
  CHECK(status("/nope") == 404);
  CHECK(status("/fs.json/x") == 404);
  CHECK(status("fs.json") == 400);
  CHECK(status(std::string("/fs.json\0x", 10).c_str()) == 200);  // a C string ends at NUL
  CHECK(std::get<Refusal>(open_beneath(root, std::string_view("/fs.json\0x", 10))).status == 400);
  auto ok = open_beneath(root, "/sub/");
  CHECK(std::get<Opened>(ok).name == "index.html");
  ::close(root);
  fs::remove_all(base);
}
