#include "v86/state.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include <catch2/catch.hpp>

#include "core/file_util.hpp"
#include "core/sha256.hpp"
#include "v86/exporter.hpp"

using namespace qb;
using namespace qb::v86;
namespace fs = std::filesystem;

namespace {

State sample() {
  State s;
  s.source = "/src/tree";
  s.zstd_level = 19;
  s.dir_mtime_ns = 1234567890123456789;
  for (const char* p : {"a", "a/b", "a/b/c", "a.txt", "a0", "z\xc3\xa9"}) {
    StatRecord r;
    r.dev = 1;
    r.ino = std::string_view(p).size();
    r.size = 42;
    r.mtime_ns = -5;  // before 1970: negative stays exact
    r.ctime_ns = 7;
    r.mode = 0100644;
    r.has_digest = 1;
    r.digest = sha256(p);
    s.add(p, r);
  }
  StatRecord l;
  l.mode = 0120777;
  l.size = 9;
  l.flags = rec_target_stored;
  s.add("a/link", l, "../target");
  StatRecord d;
  d.mode = 040755;
  d.flags = rec_listing_complete;
  s.add("a/dir", d);
  BlobRecord b;
  b.digest = sha256("x");
  s.blobs.push_back(b);
  b.flags = blob_long | blob_zst;
  s.blobs.push_back(b);
  return s;
}

} // namespace

TEST_CASE("state: path order puts a directory's subtree before its longer siblings") {
  CHECK(path_less("a", "a/b"));
  CHECK(path_less("a/b", "a.txt"));  // '/' sorts first, so a depth-first walk is in order
  CHECK(path_less("a/b/c", "a.txt"));
  CHECK(path_less("a.txt", "a0"));
  CHECK_FALSE(path_less("a", "a"));
}

TEST_CASE("state: binary round trip") {
  auto dir = make_temp_dir(fs::temp_directory_path(), "qb-state-test");
  State s = sample();
  s.sort_entries();
  save_state(dir / "state", s, false);
  auto t = load_state(dir / "state");
  REQUIRE(t);
  CHECK(t->same_content(s));
  CHECK(t->source == "/src/tree");
  CHECK(t->zstd_level == 19);
  CHECK(t->written_ns > 0);
  const StatRecord* r = t->find("a/b/c");
  REQUIRE(r);
  CHECK(r->digest == sha256("a/b/c"));
  CHECK(r->mtime_ns == -5);
  CHECK(t->find("z\xc3\xa9"));
  CHECK_FALSE(t->find("a/b/d"));
  CHECK_FALSE(t->find(""));
  CHECK(t->blobs.size() == 2);
  CHECK(t->blobs[1].flags == (blob_long | blob_zst));
  remove_all_quiet(dir);
}

TEST_CASE("state: damaged, truncated or foreign files mean a fresh export") {
  auto dir = make_temp_dir(fs::temp_directory_path(), "qb-state-test");
  State s = sample();
  save_state(dir / "state", s, false);
  std::string good = read_file(dir / "state");
  CHECK_FALSE(load_state(dir / "missing"));
  SECTION("a flipped byte") {
    std::string bad = good;
    bad[bad.size() / 2] ^= 0x40;
    write_file_atomic(dir / "state", bad);
    CHECK_FALSE(load_state(dir / "state"));
  }
  SECTION("truncated") {
    write_file_atomic(dir / "state", good.substr(0, good.size() - 3));
    CHECK_FALSE(load_state(dir / "state"));
    write_file_atomic(dir / "state", good.substr(0, 10));
    CHECK_FALSE(load_state(dir / "state"));
  }
  SECTION("the old text format, and zeros") {
    write_file_atomic(dir / "state", "quickboot-v86-state 1\nsource 1:/\nzstd 0\ndirmtime 0\n");
    CHECK_FALSE(load_state(dir / "state"));
    write_file_atomic(dir / "state", std::string(good.size(), '\0'));
    CHECK_FALSE(load_state(dir / "state"));
  }
  remove_all_quiet(dir);
}

TEST_CASE("state: a corrupt state file makes the next export a fresh, correct one") {
  auto src = make_temp_dir(fs::temp_directory_path(), "qb-state-src");
  auto out = make_temp_dir(fs::temp_directory_path(), "qb-state-out");
  fs::create_directories(src / "d");
  write_file_atomic(src / "d/f", "one");
  write_file_atomic(src / "g", "two");
  ExportOptions o;
  o.source = src;
  o.out = out / "o";
  run_export(o);
  std::string first = read_file(out / "o/fs.json");
  std::string st = read_file(out / "o/.quickboot/state");
  st[st.size() - 2] ^= 1;
  write_file_atomic(out / "o/.quickboot/state", st);
  auto d = run_export(o);
  CHECK(d.files_hashed == 2);  // everything read again
  CHECK(d.entries_added.size() == 3);
  CHECK(read_file(out / "o/fs.json") == first);
  CHECK(load_state(out / "o/.quickboot/state"));  // rewritten whole
  ::usleep(20000);
  auto d2 = run_export(o);
  CHECK(d2.files_hashed == 0);
  remove_all_quiet(src);
  remove_all_quiet(out);
}

TEST_CASE("state: an export with nothing changed leaves the state file alone") {
  auto src = make_temp_dir(fs::temp_directory_path(), "qb-state-src");
  auto out = make_temp_dir(fs::temp_directory_path(), "qb-state-out");
  write_file_atomic(src / "f", "content");
  ExportOptions o;
  o.source = src;
  o.out = out / "o";
  run_export(o);
  ::usleep(20000);
  run_export(o);  // f was racily clean the first time: read again, state rewritten
  struct stat a{}, b{};
  ::stat((out / "o/.quickboot/state").c_str(), &a);
  ::usleep(20000);
  auto d = run_export(o);
  ::stat((out / "o/.quickboot/state").c_str(), &b);
  CHECK(d.files_hashed == 0);
  CHECK_FALSE(d.fs_json_changed);
  CHECK(a.st_mtim.tv_nsec == b.st_mtim.tv_nsec);
  CHECK(a.st_ino == b.st_ino);
  remove_all_quiet(src);
  remove_all_quiet(out);
}

TEST_CASE("state: symlink targets and directory flags survive a round trip and a sort") {
  auto dir = make_temp_dir(fs::temp_directory_path(), "qb-state-test");
  State s = sample();
  s.sort_entries();  // moves the target bytes along with their path
  save_state(dir / "state", s, false);
  auto t = load_state(dir / "state");
  REQUIRE(t);
  const StatRecord* l = t->find("a/link");
  REQUIRE(l);
  CHECK(t->target(*l) == "../target");
  const StatRecord* d = t->find("a/dir");
  REQUIRE(d);
  CHECK(d->flags == rec_listing_complete);
  CHECK(t->path(*t->find("a/b/c")) == "a/b/c");
  // A target whose length is not the recorded size is not stored.
  State u;
  StatRecord bad;
  bad.mode = 0120777;
  bad.size = 3;
  bad.flags = rec_target_stored;
  u.add("x", bad, "longer");
  CHECK(u.recs()[0].flags == 0);
  CHECK(u.pool() == "x");
  remove_all_quiet(dir);
}

// Issue 15: a checksum catches damage, not forgery. States re-sealed after an edit
// (as anyone who can write DIR can do) must still be refused when inconsistent, and
// what the exporter takes from an accepted one must not be trusted blindly.
namespace {

constexpr std::size_t header_size = 72;

StatRecord rec_at(const std::string& bytes, std::size_t i) {
  StatRecord r;
  std::memcpy(&r, bytes.data() + header_size + i * sizeof r, sizeof r);
  return r;
}
void put_rec(std::string& bytes, std::size_t i, const StatRecord& r) {
  std::memcpy(bytes.data() + header_size + i * sizeof r, &r, sizeof r);
}

} // namespace

TEST_CASE("state: forged files with a valid checksum are still checked") {
  auto dir = make_temp_dir(fs::temp_directory_path(), "qb-state-test");
  State s = sample();
  s.sort_entries();
  save_state(dir / "state", s, false);
  const std::string good = read_file(dir / "state");
  std::string bad = good;
  REQUIRE(reseal_state(bad));
  CHECK(bad == good);  // resealing an intact file changes nothing
  auto load = [&](std::string bytes) {
    REQUIRE(reseal_state(bytes));
    write_file_atomic(dir / "state", bytes);
    return load_state(dir / "state");
  };
  CHECK(load(good));
  SECTION("entries out of order") {
    auto a = rec_at(good, 0), b = rec_at(good, 1);
    put_rec(bad, 0, b);
    put_rec(bad, 1, a);
    CHECK_FALSE(load(bad));
  }
  SECTION("a path outside the pool") {
    auto r = rec_at(good, 2);
    r.path_off = 1u << 30;
    put_rec(bad, 2, r);
    CHECK_FALSE(load(bad));
  }
  SECTION("a digest on a directory, impossible blob flags") {
    std::size_t d = 0, f = 0;
    while (!S_ISDIR(rec_at(good, d).mode)) ++d;
    while (!rec_at(good, f).has_digest) ++f;
    auto r = rec_at(good, d);
    r.has_digest = 1;
    put_rec(bad, d, r);
    CHECK_FALSE(load(bad));
    bad = good;
    r = rec_at(good, f);
    r.blob_flags = 0x80;
    put_rec(bad, f, r);
    CHECK_FALSE(load(bad));
  }
  SECTION("a stored target on a file") {
    auto r = rec_at(good, 0);
    REQUIRE(S_ISREG(r.mode));
    r.flags |= rec_target_stored;
    r.size = 1;
    put_rec(bad, 0, r);
    CHECK_FALSE(load(bad));
  }
  remove_all_quiet(dir);
}

TEST_CASE("state: a forged state cannot make fs.json hold a broken target or name a missing blob") {
  auto src = make_temp_dir(fs::temp_directory_path(), "qb-state-src");
  auto out = make_temp_dir(fs::temp_directory_path(), "qb-state-out");
  write_file_atomic(src / "g", "two");
  ::symlink("target", (src / "l").c_str());
  ExportOptions o;
  o.source = src;
  o.out = out / "o";
  run_export(o);
  ::usleep(20000);
  const fs::path sf = out / "o/.quickboot/state";
  std::string bytes = read_file(sf);
  // The symlink's stored target: same length, last byte the start of a 4-byte UTF-8
  // sequence (a decoder that trusts it reads past the end).
  auto t = bytes.rfind("target");
  REQUIRE(t != std::string::npos);
  bytes[t + 5] = '\xf0';
  // The file's record: the digest of content no blob holds.
  auto s = load_state(sf);
  REQUIRE(s);
  const StatRecord* g = s->find("g");
  REQUIRE(g);
  std::size_t gi = static_cast<std::size_t>(g - s->recs().data());
  StatRecord r = rec_at(bytes, gi);
  r.digest = sha256("no blob has this");
  put_rec(bytes, gi, r);
  s.reset();
  REQUIRE(reseal_state(bytes));
  write_file_atomic(sf, bytes);
  REQUIRE(load_state(sf));  // consistent enough to be used
  run_export(o);
  std::string json = read_file(out / "o/fs.json");
  CHECK(json.find("\"l\",6,") != std::string::npos);
  CHECK(json.find("\"target\"") != std::string::npos);  // read again from disk
  std::string blob = to_hex(sha256("two")).substr(0, 8) + ".bin";
  CHECK(json.find(blob) != std::string::npos);
  CHECK(json.find(to_hex(sha256("no blob has this")).substr(0, 8)) == std::string::npos);
  CHECK(fs::exists(out / "o" / blob));
  remove_all_quiet(src);
  remove_all_quiet(out);
}
