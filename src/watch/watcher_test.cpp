#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/file_util.hpp"
#include "watch/watcher.hpp"

using namespace qb::watch;
using namespace std::chrono_literals;
using Kind = Change::Kind;

namespace {

struct TempDir {
  fs::path path = qb::make_temp_dir(fs::temp_directory_path(), "qb-watch-test");
  ~TempDir() { qb::remove_all_quiet(path); }
};

void put(const fs::path& p, std::string_view data = "x") {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

// The next batch, failing the test when none comes within `limit`.
Batch expect_batch(Watcher& w, std::chrono::milliseconds limit = 5s) {
  auto b = w.next(-1, Clock::now() + limit);
  REQUIRE(b);
  return std::move(*b);
}

// Every batch until none arrives for `quiet`.
std::vector<Batch> drain(Watcher& w, std::chrono::milliseconds quiet = 400ms) {
  std::vector<Batch> out;
  while (auto b = w.next(-1, Clock::now() + quiet)) out.push_back(std::move(*b));
  return out;
}

// Batches until `done(batches)` holds. `guard` only stops a hang: on a loaded machine a
// batch may take seconds, and no assertion may depend on a fixed window being enough.
template <class Pred>
std::vector<Batch> collect_until(Watcher& w, Pred done, std::chrono::seconds guard = 120s) {
  std::vector<Batch> out;
  const auto give_up = Clock::now() + guard;
  while (!done(out) && Clock::now() < give_up)
    if (auto b = w.next(-1, give_up)) out.push_back(std::move(*b));
  return out;
}

std::set<std::string> paths_of(const std::vector<Batch>& batches, Kind kind) {
  std::set<std::string> out;
  for (const auto& b : batches)
    for (const auto& c : b.changes)
      if (c.kind == kind) out.insert(c.path.string());
  return out;
}

bool has(const Batch& b, std::string_view path, Kind kind) {
  return std::any_of(b.changes.begin(), b.changes.end(),
                     [&](const Change& c) { return c.path == path && c.kind == kind; });
}

bool has_any(const std::vector<Batch>& bs, std::string_view path, Kind kind) {
  return std::any_of(bs.begin(), bs.end(), [&](const Batch& b) { return has(b, path, kind); });
}

} // namespace

TEST_CASE("watch: modifying a file gives one change") {
  TempDir t;
  put(t.path / "a.txt", "old");
  Watcher w;
  w.add_root("rootfs", t.path);
  put(t.path / "a.txt", "new");
  auto b = expect_batch(w);
  REQUIRE(b.changes.size() == 1);
  CHECK(b.changes[0] == Change{"rootfs", "a.txt", Kind::modified, false});
  CHECK_FALSE(b.overflowed);
  CHECK(w.absolute(b.changes[0]) == t.path / "a.txt");
  CHECK_FALSE(w.next(-1, Clock::now() + 200ms));  // nothing else
}

TEST_CASE("watch: create, chmod, delete are told apart") {
  TempDir t;
  Watcher w;
  w.add_root("r", t.path);
  put(t.path / "new");
  auto b = expect_batch(w);
  CHECK(b.changes == std::vector<Change>{{"r", "new", Kind::created, false}});  // create+write merge
  ::chmod((t.path / "new").c_str(), 0755);
  CHECK(expect_batch(w).changes == std::vector<Change>{{"r", "new", Kind::modified, false}});
  fs::remove(t.path / "new");
  CHECK(expect_batch(w).changes == std::vector<Change>{{"r", "new", Kind::deleted, false}});
}

TEST_CASE("watch: a file inside nested directories created at once is seen") {
  TempDir t;
  Watcher w;
  w.add_root("r", t.path);
  fs::create_directories(t.path / "a/b/c/d");
  put(t.path / "a/b/c/d/f.txt");
  auto bs = drain(w);
  REQUIRE_FALSE(bs.empty());
  CHECK(has_any(bs, "a", Kind::created));
  CHECK(has_any(bs, "a/b/c/d/f.txt", Kind::created));
  // The new directories are watched from now on.
  put(t.path / "a/b/c/d/f.txt", "again");
  auto b = expect_batch(w);
  CHECK(b.changes == std::vector<Change>{{"r", "a/b/c/d/f.txt", Kind::modified, false}});
}

TEST_CASE("watch: 5,000 files written at once are one batch") {
  TempDir t;
  fs::create_directories(t.path / "tree");
  Watcher w;
  w.add_root("r", t.path);
  constexpr int n = 5000;
  for (int i = 0; i < n; ++i) put(t.path / "tree" / ("f" + std::to_string(i)));
  auto bs = drain(w);
  REQUIRE(bs.size() == 1);
  const Batch& b = bs[0];
  if (b.overflowed) {
    CHECK(has(b, "", Kind::rescan));
  } else {
    CHECK(b.changes.size() == n);
    for (int i = 0; i < n; i += 499) CHECK(has(b, "tree/f" + std::to_string(i), Kind::created));
  }
}

TEST_CASE("watch: 5,000 files written while the watcher waits: nothing lost, one batch") {
  TempDir t;
  Watcher w;
  w.add_root("r", t.path);
  constexpr int n = 5000;
  std::thread writer([&] {
    fs::create_directories(t.path / "x/y");
    for (int i = 0; i < n; ++i) put(t.path / "x/y" / ("f" + std::to_string(i)));
  });
  auto bs = drain(w, 1500ms);
  writer.join();
  bool overflowed = std::any_of(bs.begin(), bs.end(), [](const Batch& b) { return b.overflowed; });
  std::fprintf(stderr, "watch: 5,000 concurrent files -> %zu batch(es), first after %lld ms%s\n",
               bs.size(),
               bs.empty() ? 0LL : static_cast<long long>(bs[0].waited.count()),
               overflowed ? " (overflowed)" : "");
  if (overflowed) {
    CHECK(has_any(bs, "", Kind::rescan));
  } else {
    auto created = paths_of(bs, Kind::created);
    for (int i = 0; i < n; ++i) REQUIRE(created.contains("x/y/f" + std::to_string(i)));
    // One batch unless the writer took longer than max_delay (1 s) on a loaded machine.
    if (bs.size() > 1) CHECK(bs[0].waited >= 1000ms);
  }
}

TEST_CASE("watch: queue overflow gives a rescan batch, then watching goes on") {
  TempDir t;
  std::size_t max_queued = 16384;
  if (std::ifstream q("/proc/sys/fs/inotify/max_queued_events"); q) q >> max_queued;
  fs::create_directories(t.path / "d");
  Watcher w;
  w.add_root("r", t.path);
  // Two events per file (create, close_write) while nobody reads: past the queue size.
  std::size_t files = max_queued / 2 + 500;
  for (std::size_t i = 0; i < files; ++i) put(t.path / "d" / std::to_string(i));
  // The first batch, however long the machine takes to deliver it (it once came after
  // the 400 ms quiet window drain() allows, at load 8 on 2 cores).
  auto bs = collect_until(w, [](const std::vector<Batch>& v) { return !v.empty(); });
  REQUIRE_FALSE(bs.empty());
  CHECK(bs[0].overflowed);
  CHECK(has(bs[0], "", Kind::rescan));
  drain(w);  // whatever else the flood left; nothing below depends on it being all
  put(t.path / "d/after");
  fs::create_directories(t.path / "d/sub");
  put(t.path / "d/sub/deep");
  auto after = collect_until(w, [](const std::vector<Batch>& v) {
    return has_any(v, "d/after", Kind::created) && has_any(v, "d/sub/deep", Kind::created);
  });
  CHECK(has_any(after, "d/after", Kind::created));
  CHECK(has_any(after, "d/sub/deep", Kind::created));
}

TEST_CASE("watch: a deleted and re-created subdirectory is watched again") {
  TempDir t;
  fs::create_directories(t.path / "sub/inner");
  Watcher w;
  w.add_root("r", t.path);
  auto watches = w.watch_count();
  fs::remove_all(t.path / "sub");
  auto gone = drain(w);
  CHECK(has_any(gone, "sub", Kind::deleted));
  CHECK(w.watch_count() == watches - 2);
  fs::create_directories(t.path / "sub/inner");
  put(t.path / "sub/inner/f");
  auto back = drain(w);
  CHECK(has_any(back, "sub/inner/f", Kind::created));
  put(t.path / "sub/inner/f", "2");
  CHECK(expect_batch(w).changes == std::vector<Change>{{"r", "sub/inner/f", Kind::modified, false}});
  CHECK(w.watch_count() == watches);
}

TEST_CASE("watch: a deleted and re-created root keeps working") {
  TempDir t;
  fs::path root = t.path / "rootfs";
  fs::create_directories(root / "etc");
  Watcher w;
  w.add_root("rootfs", root);
  fs::remove_all(root);
  auto gone = drain(w);
  REQUIRE_FALSE(gone.empty());
  CHECK(has_any(gone, "", Kind::deleted));
  fs::create_directories(root / "etc");
  put(root / "etc/motd");
  auto back = drain(w);
  CHECK(has_any(back, "", Kind::created));
  CHECK(has_any(back, "etc/motd", Kind::created));
  put(root / "etc/motd", "hello");
  CHECK(expect_batch(w).changes == std::vector<Change>{{"rootfs", "etc/motd", Kind::modified, false}});
  // Only the root's own name matters in its parent.
  put(t.path / "sibling");
  CHECK_FALSE(w.next(-1, Clock::now() + 200ms));
}

TEST_CASE("watch: directories moved within, out of and into the tree") {
  TempDir t;
  fs::create_directories(t.path / "root/a/deep");
  fs::create_directories(t.path / "outside/m/n");
  put(t.path / "root/a/deep/f");
  put(t.path / "outside/m/n/g");
  Watcher w;
  w.add_root("r", t.path / "root");

  fs::rename(t.path / "root/a", t.path / "root/b");
  auto moved = drain(w);
  CHECK(has_any(moved, "a", Kind::deleted));
  CHECK(has_any(moved, "b", Kind::created));
  CHECK(has_any(moved, "b/deep/f", Kind::created));
  put(t.path / "root/b/deep/f", "2");
  CHECK(expect_batch(w).changes == std::vector<Change>{{"r", "b/deep/f", Kind::modified, false}});

  fs::rename(t.path / "root/b", t.path / "outside/b");
  CHECK(has_any(drain(w), "b", Kind::deleted));
  put(t.path / "outside/b/deep/f", "3");
  CHECK_FALSE(w.next(-1, Clock::now() + 200ms));

  fs::rename(t.path / "outside/m", t.path / "root/m");
  auto in = drain(w);
  CHECK(has_any(in, "m", Kind::created));
  CHECK(has_any(in, "m/n/g", Kind::created));
  put(t.path / "root/m/n/g", "4");
  CHECK(expect_batch(w).changes == std::vector<Change>{{"r", "m/n/g", Kind::modified, false}});
}

TEST_CASE("watch: editor temporaries are ignored") {
  TempDir t;
  Watcher w;
  w.add_root("r", t.path);
  for (auto name : {".motd.swp", ".motd.swx", ".motd.swo", "motd~", "4913", ".#motd", "#motd#"})
    put(t.path / name);
  fs::create_directories(t.path / "d");
  put(t.path / "d/4913");
  put(t.path / "motd");
  auto bs = drain(w);
  auto all = paths_of(bs, Kind::created);
  CHECK(all == std::set<std::string>{"d", "motd"});
}

TEST_CASE("watch: the caller's ignore list is honoured") {
  TempDir t;
  fs::create_directories(t.path / "build/gen");
  fs::create_directories(t.path / "src/build");
  Options o;
  o.ignore = {"*.o", "/build/gen", "node_modules"};
  o.ignore_paths = {t.path / "export"};
  Watcher w(o);
  w.add_root("r", t.path);
  put(t.path / "main.o");
  put(t.path / "build/gen/x.c");       // ignored, anchored path
  put(t.path / "src/build/kept");      // "/build/gen" is anchored at the root
  fs::create_directories(t.path / "export/blobs");  // created later, still ignored
  put(t.path / "export/fs.json");
  put(t.path / "export/blobs/1");
  fs::create_directories(t.path / "a/node_modules/q");
  put(t.path / "a/node_modules/q/i.js");
  put(t.path / "kept");
  auto got = paths_of(drain(w), Kind::created);
  CHECK(got == std::set<std::string>{"src/build/kept", "a", "kept"});
  CHECK_FALSE(w.next(-1, Clock::now() + 100ms));
  put(t.path / "export/fs.json", "2");  // the ignored dir was never watched
  CHECK_FALSE(w.next(-1, Clock::now() + 200ms));
}

TEST_CASE("watch: a single file as root, saved in place or by rename") {
  TempDir t;
  put(t.path / "quickboot.toml", "a");
  Watcher w;
  w.add_root("config", t.path / "quickboot.toml");
  put(t.path / "other");
  CHECK_FALSE(w.next(-1, Clock::now() + 200ms));
  put(t.path / "quickboot.toml", "b");
  auto b = expect_batch(w);
  REQUIRE(b.changes == std::vector<Change>{{"config", "", Kind::modified, false}});
  CHECK(w.absolute(b.changes[0]) == t.path / "quickboot.toml");
  put(t.path / "quickboot.toml.tmp", "c");
  fs::rename(t.path / "quickboot.toml.tmp", t.path / "quickboot.toml");
  CHECK(expect_batch(w).changes == std::vector<Change>{{"config", "", Kind::created, false}});
}

TEST_CASE("watch: several roots in one watcher") {
  TempDir t;
  fs::create_directories(t.path / "rootfs");
  fs::create_directories(t.path / "hooks");
  Watcher w;
  w.add_root("rootfs", t.path / "rootfs");
  w.add_root("hooks", t.path / "hooks");
  put(t.path / "hooks/9p_root");
  put(t.path / "rootfs/motd");
  auto b = expect_batch(w);
  CHECK(b.changes == std::vector<Change>{{"hooks", "9p_root", Kind::created, false},
                                         {"rootfs", "motd", Kind::created, false}});
  CHECK_THROWS_WITH(w.add_root("x", t.path / "missing"), Catch::Contains("cannot watch") &&
                                                             Catch::Contains("missing"));
}

TEST_CASE("watch: the stop fd and the deadline end next()") {
  TempDir t;
  Watcher w;
  w.add_root("r", t.path);
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  qb::Fd rd(p[0]), wr(p[1]);
  auto start = Clock::now();
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    (void)!::write(wr.get(), "x", 1);
  });
  auto r = w.next(rd.get());
  stopper.join();
  CHECK_FALSE(r);
  CHECK(Clock::now() - start >= 100ms);
  CHECK(Clock::now() - start < 2s);
  // A stop that is already readable wins at once, and is not consumed.
  CHECK_FALSE(w.next(rd.get()));
  CHECK_FALSE(w.next(rd.get()));

  start = Clock::now();
  CHECK_FALSE(w.next(-1, start + 150ms));
  CHECK(Clock::now() - start >= 150ms);

  // Pending changes survive a stop and come with the next call.
  qb::Fd rd2, wr2;
  {
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    rd2.reset(p[0]);
    wr2.reset(p[1]);
  }
  put(t.path / "f");
  CHECK_FALSE(w.next(-1, Clock::now()));  // read, but not yet due
  CHECK(w.pending_until());
  (void)!::write(wr2.get(), "x", 1);
  CHECK_FALSE(w.next(rd2.get()));
  CHECK(expect_batch(w).changes == std::vector<Change>{{"r", "f", Kind::created, false}});
}

TEST_CASE("watch: debounce resets while events keep coming, capped by max_delay") {
  // No fixed window may decide the outcome (a loaded CI machine stretches any sleep):
  // the writer goes on until the batch arrives, so only max_delay can end it, and the
  // debounce (2 s) is far longer than any pause between its writes.
  TempDir t;
  Options o;
  o.debounce = 2000ms;
  o.max_delay = 300ms;
  Watcher w(o);
  w.add_root("r", t.path);
  std::atomic<bool> done{false};
  std::atomic<int> writes{0};
  std::thread writer([&] {
    for (int i = 0; !done; ++i) {
      put(t.path / ("s" + std::to_string(i % 200)));
      ++writes;
      std::this_thread::sleep_for(5ms);
    }
  });
  auto b = expect_batch(w, 120s);  // hang guard only: without the cap it never comes
  done = true;
  writer.join();
  CHECK(b.waited >= 300ms);
  CHECK(b.changes.size() >= 1);
  // Writes made after that batch (before the writer saw `done`) form the next one: it
  // comes when the cap or the debounce ends it, whichever is first, never earlier.
  auto rest = w.next(-1, Clock::now() + 120s);
  if (rest) CHECK(rest->waited >= 300ms);
}

TEST_CASE("watch: write-to-delivery latency with the default debounce") {
  TempDir t;
  Watcher w;
  w.add_root("r", t.path);
  std::vector<double> ms;
  for (int i = 0; i < 20; ++i) {
    auto start = Clock::now();
    put(t.path / "f", std::to_string(i));
    auto b = expect_batch(w);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    CHECK(b.changes.size() == 1);
  }
  std::sort(ms.begin(), ms.end());
  std::fprintf(stderr, "watch: write -> batch, debounce 50 ms: median %.1f ms, max %.1f ms (n=20)\n",
               ms[10], ms.back());
  CHECK(ms.front() >= 50.0);
  CHECK(ms[10] < 150.0);
}

TEST_CASE("watch: a bulk write that stalls for longer than the debounce stays one batch") {
  TempDir t;
  Options o;  // debounce 50 ms
  o.max_delay = 20s;  // as the watch loop has it: only the quiet period may end the batch
  Watcher w(o);
  w.add_root("r", t.path);
  // The writer notes its longest pause between two files: on a busy machine it can be
  // descheduled for longer than the quiet period, and then two batches are right.
  Clock::duration longest_pause{};
  std::thread writer([&] {
    auto last = Clock::now();
    auto note = [&] {
      auto now = Clock::now();
      longest_pause = std::max(longest_pause, now - last);
      last = now;
    };
    for (int i = 0; i < 2500; ++i) put(t.path / ("a" + std::to_string(i))), note();  // quiet period: 3 x 50 ms
    std::this_thread::sleep_for(90ms);  // writeback throttling, say
    for (int i = 0; i < 100; ++i) put(t.path / ("b" + std::to_string(i))), note();
  });
  auto first = expect_batch(w, 20s);
  writer.join();
  CHECK(has(first, "a0", Kind::created));
  if (longest_pause >= 150ms) {
    WARN("the writer paused " << std::chrono::duration_cast<std::chrono::milliseconds>(longest_pause).count()
                              << " ms (busy machine), longer than the quiet period: a split batch is correct");
    while (w.next(-1, Clock::now() + 500ms)) {
    }
  } else {
    CHECK(has(first, "b99", Kind::created));
    CHECK_FALSE(w.next(-1, Clock::now() + 500ms));  // nothing left for a second batch
  }
  // A single edit is still delivered after the plain debounce, not after max_delay.
  put(t.path / "one", "edit");
  auto b = expect_batch(w);
  CHECK(b.changes.size() == 1);
  CHECK(b.waited >= o.debounce);
  CHECK(b.waited < o.max_delay);
}
