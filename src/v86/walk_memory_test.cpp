#include "v86/walk_memory.hpp"

#include <catch2/catch.hpp>

using namespace qb::v86;

namespace {

StatRecord dir_rec() {
  StatRecord r;
  r.mode = 040755;
  r.dev = 1;
  r.ino = 2;
  r.mtime_ns = r.ctime_ns = 10;
  r.flags = rec_listing_complete;
  return r;
}

StatRecord file_rec() {
  StatRecord r;
  r.mode = 0100644;
  return r;
}

} // namespace

TEST_CASE("walk memory: children of a complete, unchanged directory, by name") {
  State s;
  s.written_ns = 100;
  s.add("a", dir_rec());
  s.add("a/b", dir_rec());
  s.add("a/b/x", file_rec());
  s.add("a/c", file_rec());
  s.add("a.txt", file_rec());
  WalkMemory m(s);
  std::span<const std::uint32_t> kids;
  REQUIRE(m.children(m.find("a"), dir_rec(), kids));
  REQUIRE(kids.size() == 2);
  CHECK(m.name(kids[0]) == "b");
  CHECK(m.name(kids[1]) == "c");
  REQUIRE(m.children(m.find("a/b"), dir_rec(), kids));
  CHECK(kids.size() == 1);
  // Changed (ctime moved), or racily clean: listed again, and the racy one counted.
  StatRecord moved = dir_rec();
  moved.ctime_ns = 11;
  CHECK_FALSE(m.children(m.find("a"), moved, kids));
  CHECK(m.racy_dirs() == 0);
  State r = s;
  r.written_ns = 10;
  WalkMemory racy(r);
  CHECK_FALSE(racy.children(racy.find("a"), dir_rec(), kids));
  CHECK(racy.racy_dirs() == 1);
}

TEST_CASE("walk memory: a state naming '..' or other non-names is not used to skip a listing") {
  for (const std::string& bad : std::vector<std::string>{"a/..", "a/.", std::string("a/x\0y", 5), "a/\xff"}) {
    State s;
    s.written_ns = 100;
    s.add("a", dir_rec());
    s.add(bad, dir_rec());
    WalkMemory m(s);
    std::span<const std::uint32_t> kids;
    INFO(bad);
    CHECK_FALSE(m.children(m.find("a"), dir_rec(), kids));
  }
}

TEST_CASE("walk memory: a symlink's target only when the link is unchanged") {
  State s;
  s.written_ns = 100;
  StatRecord l;
  l.mode = 0120777;
  l.size = 3;
  l.ino = 5;
  l.flags = rec_target_stored;
  s.add("lnk", l, "abc");
  WalkMemory m(s);
  std::string_view t;
  REQUIRE(m.target(m.find("lnk"), l, t));
  CHECK(t == "abc");
  StatRecord other = l;
  other.ino = 6;  // replaced by another symlink
  CHECK_FALSE(m.target(m.find("lnk"), other, t));
}
