#include "v86/exporter.hpp"

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
