#include "v86/fs_json.hpp"

#include <catch2/catch.hpp>

#include "v86/source.hpp"

using namespace qb::v86;

TEST_CASE("UTF-8 validation") {
  CHECK(valid_utf8("plain"));
  CHECK(valid_utf8("\xc3\xa9t\xc3\xa9"));
  CHECK(valid_utf8("\xf0\x9f\x98\x80"));
  CHECK_FALSE(valid_utf8("\xff"));
  CHECK_FALSE(valid_utf8("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(valid_utf8("\xed\xa0\x80"));      // surrogate
  CHECK_FALSE(valid_utf8("\xe2\x82"));          // truncated
  CHECK(printable("a\xff" "b") == "a\\xffb");
}

TEST_CASE("JSON strings are escaped like Python's json.dumps") {
  std::string s;
  append_json_string(s, "a\"b\\c\n\x01\xc3\xa9\xf0\x9f\x98\x80");
  CHECK(s == "\"a\\\"b\\\\c\\n\\u0001\\u00e9\\ud83d\\ude00\"");
}

TEST_CASE("fs.json is compact, sorted bytewise and sums sizes") {
  Tree t;
  auto add = [&](std::string path, std::uint32_t mode, std::uint64_t size, int parent) {
    Entry e;
    e.path = std::move(path);
    e.mode = mode;
    e.size = size;
    e.mtime_ns = 1'500'000'000'999'999'999;
    e.parent = parent;
    t.entries.push_back(e);
    auto i = static_cast<std::uint32_t>(t.entries.size() - 1);
    (parent < 0 ? t.root : t.entries[static_cast<std::size_t>(parent)].children).push_back(i);
    return static_cast<int>(i);
  };
  int d = add("d", S_IFDIR | 0755, 4096, -1);
  add("d/b", S_IFREG | 0644, 3, d);
  add("d/B", S_IFREG | 0644, 0, d);
  add("d/\xc3\xa9", S_IFIFO | 0644, 0, d);
  int l = add("a", S_IFLNK | 0777, 1, -1);
  t.entries.at(static_cast<std::size_t>(l)).target.assign(1, 'd');
  sort_children(t);
  std::string j = render_fs_json(t, [](const Entry& e) { return e.size ? "abcdef01.bin" : "e3b0c442.bin"; });
  CHECK(j ==
        "{\"fsroot\":[[\"a\",1,1500000000,41471,0,0,\"d\"],[\"d\",4096,1500000000,16877,0,0,"
        "[[\"B\",0,1500000000,33188,0,0,\"e3b0c442.bin\"],[\"b\",3,1500000000,33188,0,0,\"abcdef01.bin\"],"
        "[\"\\u00e9\",0,1500000000,4516,0,0]]]],\"version\":3,\"size\":4100}");
}

TEST_CASE("paths are normalised") {
  std::string out;
  CHECK(normalise_path("./etc//passwd", out));
  CHECK(out == "etc/passwd");
  CHECK(normalise_path("/usr/bin/", out));
  CHECK(out == "usr/bin");
  CHECK(normalise_path("./", out));
  CHECK(out.empty());
  CHECK_FALSE(normalise_path("a/../../x", out));
  SourceOptions o{{"usr/share", "etc/passwd"}};
  CHECK(excluded(o, "usr/share/doc"));
  CHECK(excluded(o, "etc/passwd"));
  CHECK_FALSE(excluded(o, "usr/sharex"));
  CHECK_FALSE(excluded(o, "etc/passwd-"));
}

TEST_CASE("fs.json numbers: zero, negative mtimes, 64-bit sizes") {
  Tree t;
  Entry e;
  e.path = "f";
  e.mode = S_IFREG | 0644;
  e.size = 18446744073709551615ull;
  e.mtime_ns = -1'500'000'000;  // 1.5 s before 1970: floor to -2, as st_mtim.tv_sec
  e.uid = 4294967295u;
  t.entries.push_back(e);
  t.root.push_back(0);
  std::string j = render_fs_json(t, [](const Entry&) { return std::string("e3b0c442.bin"); });
  CHECK(j == "{\"fsroot\":[[\"f\",18446744073709551615,-2,33188,4294967295,0,\"e3b0c442.bin\"]],"
             "\"version\":3,\"size\":18446744073709551615}");
}
