#include "v86/exporter.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "core/file_util.hpp"
#include "core/sha256.hpp"

using namespace qb;
using namespace qb::v86;
namespace fs = std::filesystem;

namespace {

fs::path make_tree() {
  auto d = make_temp_dir(fs::temp_directory_path(), "qb-export-src");
  fs::create_directories(d / "a/b");
  for (int i = 0; i < 300; ++i) write_file_atomic(d / "a" / ("f" + std::to_string(i)), std::string(std::size_t(i) * 37, char('a' + i % 26)));
  write_file_atomic(d / "a/b/big", std::string(3 << 20, 'z'));
  write_file_atomic(d / "same1", "same");
  write_file_atomic(d / "same2", "same");
  ::link((d / "same1").c_str(), (d / "hard").c_str());
  ::symlink("a/b", (d / "link").c_str());
  ::mkfifo((d / "fifo").c_str(), 0644);
  return d;
}

ExportOptions opts(const fs::path& src, const fs::path& out, io::Backend b = io::Backend::automatic) {
  ExportOptions o;
  o.source = src;
  o.out = out;
  o.backend = b;
  return o;
}

} // namespace

TEST_CASE("io_uring and pread exports are identical") {
  auto src = make_tree();
  auto tmp = make_temp_dir(fs::temp_directory_path(), "qb-export-out");
  auto d1 = run_export(opts(src, tmp / "u", io::Backend::uring));
  auto d2 = run_export(opts(src, tmp / "p", io::Backend::pread));
  CHECK(d1.backend == "io_uring");
  CHECK(d2.backend == "pread");
  CHECK(read_file(tmp / "u/fs.json") == read_file(tmp / "p/fs.json"));
  CHECK(d1.blobs_added == d2.blobs_added);
  // equal contents and the hard link: one blob; plus the empty blob
  CHECK(fs::exists(tmp / "u" / (to_hex(sha256("same")).substr(0, 8) + ".bin")));
  CHECK(fs::exists(tmp / "u/e3b0c442.bin"));
  remove_all_quiet(src);
  remove_all_quiet(tmp);
}

TEST_CASE("a re-export reads only what changed; racily clean entries are re-read") {
  auto src = make_tree();
  auto tmp = make_temp_dir(fs::temp_directory_path(), "qb-export-out");
  auto d0 = run_export(opts(src, tmp));
  CHECK(d0.files_hashed == 304);
  ::usleep(20000);
  // Files modified in the same instant as the state was written: pretend by moving
  // the state's mtime back before every file's.
  auto state = tmp / ".quickboot/state";
  fs::last_write_time(state, fs::last_write_time(state) - std::chrono::hours(1));
  auto d1 = run_export(opts(src, tmp));
  CHECK(d1.files_hashed == 304);
  CHECK_FALSE(d1.fs_json_changed);
  auto d2 = run_export(opts(src, tmp));
  CHECK(d2.files_hashed == 0);
  CHECK(d2.blobs_added.empty());
  write_file_atomic(src / "a/f7", "changed");
  auto d3 = run_export(opts(src, tmp));
  CHECK(d3.files_hashed == 1);
  CHECK(d3.entries_changed == std::vector<std::string>{"a", "a/f7"});  // the directory's mtime moved too
  CHECK(d3.blobs_added == std::vector<std::string>{to_hex(sha256("changed")).substr(0, 8) + ".bin"});
  auto o = opts(src, tmp);
  o.prune = true;
  auto d4 = run_export(o);
  CHECK(d4.blobs_removed.size() == 1);
  remove_all_quiet(src);
  remove_all_quiet(tmp);
}

TEST_CASE("the delta written to last-delta.json is the same document as --json prints") {
  Delta d;
  d.blobs_added = {"e3b0c442.bin", "abcdef01.bin"};
  d.entries_added = {"a", "a/\xc3\xa9\"q"};
  d.entries_removed = {"gone"};
  d.entries = 3;
  d.files_hashed = 2;
  d.bytes_hashed = 1ull << 40;
  d.total_size = 7;
  d.backend = "io_uring";
  d.collisions = 1;
  d.fs_json_changed = true;
  d.timings_ms = {{"walk", 1.25}, {"hash", 0.5}};
  CHECK(nlohmann::json::parse(d.to_json_text()) == d.to_json());
  Delta empty;
  CHECK(nlohmann::json::parse(empty.to_json_text()) == empty.to_json());
}

namespace {

// fs.json of a fresh export (no state) of the same source, for comparison.
std::string fresh_fs_json(const ExportOptions& o) {
  auto tmp = make_temp_dir(fs::temp_directory_path(), "qb-export-fresh");
  auto f = o;
  f.out = tmp / "o";
  run_export(f);
  auto j = read_file(tmp / "o/fs.json");
  remove_all_quiet(tmp);
  return j;
}

// Lets the file timestamps (a clock tick of a few ms) move past the last run's, so
// the next change is not racily clean: that would list everything again and leave the
// shortcut under test unused.
void settle() { ::usleep(20000); }

// A source tree exported once, and its output; both removed at the end.
struct Exported {
  fs::path src = make_tree();
  fs::path tmp = make_temp_dir(fs::temp_directory_path(), "qb-export-out");
  ExportOptions o = opts(src, tmp / "o");
  Delta first;
  Exported() {
    settle();  // the tree's own last changes are not racily clean for the first state
    first = run_export(o);
    settle();
  }
  ~Exported() {
    remove_all_quiet(src);
    remove_all_quiet(tmp);
  }
};

} // namespace

TEST_CASE("a re-export skips unchanged directories and still sees every change") {
  Exported x;
  auto& src = x.src;
  auto& o = x.o;
  CHECK(x.first.dirs_listed == 3);  // the root, a, a/b
  auto d1 = run_export(o);
  CHECK(d1.dirs_listed == 1);  // the root only: a and a/b are known
  CHECK(d1.files_hashed == 0);

  auto step = [&](const char* what, auto&& change) {
    INFO(what);
    change();
    auto d = run_export(o);
    CHECK(read_file(o.out / "fs.json") == fresh_fs_json(o));
    settle();
    return d;
  };
  auto d = step("a file added", [&] { write_file_atomic(src / "a/b/new", "new"); });
  CHECK(d.entries_added == std::vector<std::string>{"a/b/new"});
  step("a file removed", [&] { fs::remove(src / "a/f3"); });
  step("a file renamed", [&] { fs::rename(src / "a/f4", src / "a/f4-renamed"); });
  step("a symlink replaced, same length", [&] {
    fs::remove(src / "link");
    ::symlink("a/c", (src / "link").c_str());
  });
  d = step("an entry added, then the directory's mtime put back (ctime still moves)", [&] {
    struct stat st{};
    ::stat((src / "a/b").c_str(), &st);
    write_file_atomic(src / "a/b/hidden", "h");
    timespec ts[2] = {st.st_atim, st.st_mtim};
    ::utimensat(AT_FDCWD, (src / "a/b").c_str(), ts, 0);
  });
  CHECK(d.entries_added == std::vector<std::string>{"a/b/hidden"});
  // A directory changed in the clock tick the state was written in stays racily clean:
  // listed once more (and the state rewritten) before it is trusted.
  run_export(o);
  settle();
  d = step("content changed in place, directory untouched", [&] {
    std::ofstream(src / "a/f5", std::ios::app) << "more";
  });
  CHECK(d.files_hashed == 1);
  CHECK(d.dirs_listed == 1);

  // An --exclude hides a name: that directory's listing is not trusted afterwards, so
  // dropping the --exclude brings the entry back.
  auto ox = o;
  ox.excludes = {"a/b/new"};
  d = run_export(ox);
  CHECK(d.entries_removed == std::vector<std::string>{"a/b/new"});
  settle();
  d = run_export(o);
  CHECK(d.entries_added == std::vector<std::string>{"a/b/new"});
  CHECK(read_file(o.out / "fs.json") == fresh_fs_json(o));
}

TEST_CASE("a directory replaced by a file: its recorded names are not used") {
  Exported x;
  auto& src = x.src;
  auto& o = x.o;
  fs::remove_all(src / "a/b");
  write_file_atomic(src / "a/b", "now a file");
  auto d = run_export(o);
  CHECK(read_file(o.out / "fs.json") == fresh_fs_json(o));
  CHECK(std::find(d.entries_removed.begin(), d.entries_removed.end(), "a/b/big") != d.entries_removed.end());
}

TEST_CASE("racily clean directories are listed once, then trusted") {
  Exported x;
  auto& o = x.o;
  // Everything recorded in the same instant as the state: pretend by moving the
  // state's mtime back before every entry's.
  auto state = o.out / ".quickboot/state";
  fs::last_write_time(state, fs::last_write_time(state) - std::chrono::hours(1));
  auto d1 = run_export(o);
  CHECK(d1.dirs_listed == 3);  // racy: listed, and the state written again
  auto d2 = run_export(o);
  CHECK(d2.dirs_listed == 1);
  CHECK(read_file(o.out / "fs.json") == fresh_fs_json(o));
}
