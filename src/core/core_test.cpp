#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/file_util.hpp"
#include "core/process.hpp"
#include "core/sha256.hpp"
#include "core/shell_quote.hpp"
#include "core/signals.hpp"

using namespace qb;
namespace fs = std::filesystem;

namespace {
// A shell with a `sleep` of its own in the background: the sleep is its child, in its
// process group. Returns the shell and the sleep's pid (-1 when it printed none).
std::pair<Process, pid_t> shell_with_background_sleep(int seconds) {
  ProcessOptions o;
  o.argv = {"sh", "-c", "sleep " + std::to_string(seconds) + " & echo $!; wait"};
  o.out = Stdio::pipe;
  Process p(o);
  char buf[32] = {};
  ssize_t n = ::read(p.stdout_fd(), buf, sizeof buf - 1);
  pid_t sleep_pid = n > 0 ? std::atoi(buf) : -1;
  return {std::move(p), sleep_pid};
}

struct TempDir {
  fs::path path = make_temp_dir(fs::temp_directory_path(), "qb-core-test");
  ~TempDir() { remove_all_quiet(path); }
};
} // namespace

TEST_CASE("sha256 matches the standard test vectors") {
  CHECK(to_hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(to_hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.update("a");
  h.update("bc");
  CHECK(to_hex(h.finish()) == to_hex(sha256("abc")));
  CHECK(to_hex(h.finish()) == to_hex(sha256("")));  // finish() resets
}

TEST_CASE("AtomicFile replaces the target only on commit") {
  TempDir t;
  fs::path target = t.path / "out";
  write_file_atomic(target, "old");
  {
    AtomicFile f(target);
    f.write("new, never committed");
  }
  CHECK(read_file(target) == "old");
  CHECK(std::distance(fs::directory_iterator(t.path), fs::directory_iterator()) == 1);  // no temp left
  {
    AtomicFile f(target, 0600);
    f.write("new");
    f.commit();
  }
  CHECK(read_file(target) == "new");
  CHECK((fs::status(target).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
}

TEST_CASE("a signal before the commit removes the AtomicFile's temporary file and a busy thread's scratch directory") {
  auto dir = fs::temp_directory_path() / ("qb-sigtest-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child: a file half-written, and a thread that keeps creating entries in a
    // registered scratch directory (what recreated .add-* after a SIGHUP in CI).
    install_cleanup_on_signals();
    AtomicFile f(dir / "out.json");
    f.write("partial");
    auto scratch = dir / "scratch";
    fs::create_directories(scratch);
    register_scratch(scratch);
    std::thread([scratch] {
      for (unsigned long i = 0;; ++i) {
        std::error_code ec;
        fs::create_directories(scratch / std::to_string(i % 64) / "x", ec);
      }
    }).detach();
    (void)!::write(ready[1], "r", 1);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char c;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  ::usleep(50'000);  // the thread is busy creating entries
  ::kill(child, SIGTERM);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);
  std::vector<std::string> left;
  for (auto& e : fs::directory_iterator(dir)) left.push_back(e.path().filename().string());
  CHECK(left.empty());  // neither out.json.tmp.* nor scratch/
  fs::remove_all(dir);
}

TEST_CASE("a signal that ends quickboot kills its children's process groups, grandchildren included") {
  int report[2];
  REQUIRE(::pipe(report) == 0);
  // Orphans come to this process, not to an init that may not reap them.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    install_cleanup_on_signals();
    // A hook's shell with a program of its own in the background: PR_SET_PDEATHSIG
    // reaches the shell only, the background program is the grandchild.
    auto [shell, sleep_pid] = shell_with_background_sleep(1000);
    (void)!::write(report[1], &sleep_pid, sizeof sleep_pid);
    for (;;) ::pause();
  }
  ::close(report[1]);
  pid_t grandchild = -1;
  REQUIRE(::read(report[0], &grandchild, sizeof grandchild) == sizeof grandchild);
  REQUIRE(grandchild > 0);
  REQUIRE(::kill(grandchild, 0) == 0);
  ::kill(child, SIGTERM);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  // Polls until the orphaned grandchild ends (60 s is a hang guard, not a limit).
  bool gone = false;
  int gst = 0;
  for (int i = 0; i < 6000 && !gone; ++i) {
    gone = ::waitpid(grandchild, &gst, WNOHANG) == grandchild;
    if (!gone) ::usleep(10'000);
  }
  if (!gone) {
    ::kill(grandchild, SIGKILL);
    ::waitpid(grandchild, &gst, 0);
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  CHECK(gone);
  CHECK((WIFSIGNALED(gst) && WTERMSIG(gst) == SIGKILL));
}

TEST_CASE("AtomicFile names the directory it cannot write to") {
  TempDir t;
  write_file_atomic(t.path / "file", "x");
  try {
    AtomicFile f(t.path / "file" / "below");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find((t.path / "file").string()) != std::string::npos);
  }
}

TEST_CASE("run_capture returns status, stdout and stderr apart") {
  auto r = run_capture({"sh", "-c", "echo out; echo err >&2; exit 3"});
  CHECK(r.exit_code == 3);
  CHECK(r.out == "out\n");
  CHECK(r.err == "err\n");
}

TEST_CASE("Process reports a missing program as an Error with a hint") {
  ProcessOptions o;
  o.argv = {"/nonexistent/program"};
  try {
    Process p(o);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("cannot run /nonexistent/program") != std::string::npos);
  }
}

TEST_CASE("Process::terminate ends the whole process group") {
  auto [p, grandchild] = shell_with_background_sleep(60);
  REQUIRE(grandchild > 0);
  p.terminate(std::chrono::milliseconds(500));
  CHECK(p.try_wait().has_value());
  // The grandchild was in the same group: gone, or a zombie waiting for init to reap it.
  auto alive = [&] {
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string pid, comm, state;
    if (!(stat >> pid >> comm >> state)) return false;
    return state != "Z" && state != "X";
  };
  for (int i = 0; i < 50 && alive(); ++i) ::usleep(20000);
  CHECK_FALSE(alive());
}

TEST_CASE("shell_quote: single quotes, an embedded quote closed and escaped, words joined") {
  CHECK(qb::shell_quote(std::string_view("a b")) == "'a b'");
  CHECK(qb::shell_quote(std::string_view("it's")) == "'it'\\''s'");
  CHECK(qb::shell_quote(std::vector<std::string>{"sh", "-c", "echo $HOME"}) == "'sh' '-c' 'echo $HOME'");
  CHECK(qb::shell_quote(std::vector<std::string>{}).empty());
}

TEST_CASE("qemu_quote doubles commas and nothing else") {
  CHECK(qemu_quote("/a/b") == "/a/b");
  CHECK(qemu_quote("x,path=/") == "x,,path=/");
  CHECK(qemu_quote(",,") == ",,,,");
}

TEST_CASE("read_regular_file refuses FIFOs, directories and files over the limit without blocking") {
  TempDir t;
  fs::path fifo = t.path / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(read_regular_file(fifo, 100), Catch::Contains("is a FIFO, not a regular file"));
  CHECK_THROWS_WITH(read_file(fifo), Catch::Contains("is a FIFO"));
  CHECK_THROWS_WITH(read_regular_file(t.path, 100), Catch::Contains("is a directory"));
  write_file_atomic(t.path / "f", "12345");
  CHECK(read_regular_file(t.path / "f", 5) == "12345");
  CHECK_THROWS_WITH(read_regular_file(t.path / "f", 4), Catch::Contains("too large"));
}
