#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "v86/graft.hpp"

using namespace qb::v86;

namespace {

Entry make(std::string path, std::uint32_t mode, std::int32_t parent) {
  Entry e;
  e.path = std::move(path);
  e.mode = mode;
  e.parent = parent;
  return e;
}

// usr/ (dir), usr/lib/ (dir), lib -> usr/lib (symlink), zz (file)
Tree base() {
  Tree t;
  t.entries.push_back(make("usr", S_IFDIR | 0755, -1));
  t.entries.push_back(make("usr/lib", S_IFDIR | 0755, 0));
  t.entries.push_back(make("lib", S_IFLNK | 0777, -1));
  t.entries.push_back(make("zz", S_IFREG | 0644, -1));
  t.entries[0].children = {1};
  t.root = {0, 2, 3};
  return t;
}

// kernel/ (dir) with a.ko, and modules.dep
Tree modules() {
  Tree s;
  s.entries.push_back(make("kernel", S_IFDIR | 0755, -1));
  s.entries.push_back(make("kernel/a.ko", S_IFREG | 0644, 0));
  s.entries.push_back(make("modules.dep", S_IFREG | 0644, -1));
  s.entries[0].children = {1};
  s.root = {2, 0};
  return s;
}

} // namespace

TEST_CASE("graft_tree adds a directory under created ancestors, sorted") {
  Tree t = base();
  struct stat st {};
  st.st_mode = S_IFDIR | 0755;
  auto first = graft_tree(t, "usr/lib/modules/6.1", modules(), st);
  CHECK(first == 4);
  // usr/lib gained modules/, which holds 6.1/ with kernel/ and modules.dep, in name order.
  const Entry& lib = t.entries[1];
  REQUIRE(lib.children.size() == 1);
  const Entry& mods = t.entries[lib.children[0]];
  CHECK(mods.path == "usr/lib/modules");
  CHECK(mods.is_dir());
  const Entry& rel = t.entries[mods.children.at(0)];
  CHECK(rel.path == "usr/lib/modules/6.1");
  REQUIRE(rel.children.size() == 2);
  CHECK(t.entries[rel.children[0]].path == "usr/lib/modules/6.1/kernel");
  CHECK(t.entries[rel.children[1]].path == "usr/lib/modules/6.1/modules.dep");
  const Entry& ko = t.entries[t.entries[rel.children[0]].children.at(0)];
  CHECK(ko.path == "usr/lib/modules/6.1/kernel/a.ko");
  CHECK(ko.name() == "a.ko");
  CHECK(t.entries[static_cast<std::size_t>(ko.parent)].path == "usr/lib/modules/6.1/kernel");
}

TEST_CASE("graft_tree refuses a path the tree has, or one through a non-directory") {
  struct stat st {};
  st.st_mode = S_IFDIR | 0755;
  Tree t = base();
  CHECK_THROWS_AS(graft_tree(t, "usr/lib", modules(), st), qb::Error);
  Tree t2 = base();
  CHECK_THROWS_AS(graft_tree(t2, "lib/modules/6.1", modules(), st), qb::Error);
  Tree t3 = base();
  CHECK_THROWS_AS(graft_tree(t3, "zz/x", modules(), st), qb::Error);
}
