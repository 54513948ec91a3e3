#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "watch/ignore.hpp"
#include "watch/limits.hpp"
#include "watch/watcher.hpp"

using namespace qb::watch;

TEST_CASE("limits: the max_user_watches message names the sysctl, the value and the fix") {
  WatchLimits l{8192, 128, 8192, 128};
  auto e = watch_limit_error("/src/rootfs/usr/share", 10000, l);
  CHECK(std::string(e.what()) ==
        "cannot watch /src/rootfs/usr/share: out of inotify watches "
        "(fs.inotify.max_user_watches = 8192); watching these trees needs 10000 directories");
  CHECK(e.hint() ==
        "raise the limit (other programs of this user hold watches too): "
        "sudo sysctl fs.inotify.max_user_watches=18432; "
        "to keep it, add that setting to /etc/sysctl.d/90-quickboot.conf");

  WatchLimits ns{524288, 128, 100, 128};  // a container's lower user-namespace limit
  auto e2 = watch_limit_error("/r", 50, ns);
  CHECK_THAT(e2.what(), Catch::Contains("this user namespace allows 100 (user.max_inotify_watches)"));
  CHECK_THAT(e2.hint(), Catch::Contains("fs.inotify.max_user_watches=1024;"));

  CHECK_THAT(watch_limit_error("/r", 5, {}).what(), Catch::Contains("max_user_watches = unknown"));
  CHECK(suggested_watch_limit(std::nullopt, 1) == 9216);
}

TEST_CASE("limits: the instance message tells inotify instances from descriptors") {
  auto e = instance_limit_error({8192, 128, 8192, 128}, false);
  CHECK(std::string(e.what()) == "cannot create an inotify instance: out of inotify instances "
                                 "(fs.inotify.max_user_instances = 128)");
  CHECK_THAT(e.hint(), Catch::Contains("sysctl fs.inotify.max_user_instances=256"));
  CHECK_THAT(instance_limit_error({}, true).hint(), Catch::Contains("ulimit -n"));
}

TEST_CASE("limits: the current values are read from /proc") {
  auto l = read_watch_limits();
  REQUIRE(l.max_user_watches);
  CHECK(*l.max_user_watches > 0);
}

// Real ENOSPC without touching the machine-wide sysctl: a child process in its own user
// namespace lowers that namespace's user.max_inotify_watches, which the kernel checks
// on top of fs.inotify.max_user_watches.
TEST_CASE("limits: running out of watches throws the max_user_watches error") {
  auto tmp = qb::make_temp_dir(fs::temp_directory_path(), "qb-watch-limit");
  for (int i = 0; i < 10; ++i) fs::create_directories(tmp / "tree" / ("d" + std::to_string(i)) / "x");
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(p[0]);
    auto say = [&](const std::string& s) { (void)!::write(p[1], s.data(), s.size()); };
    auto set = [](const char* file, const char* v) {
      int f = ::open(file, O_WRONLY);
      bool ok = f >= 0 && ::write(f, v, std::strlen(v)) > 0;
      if (f >= 0) ::close(f);
      return ok;
    };
    if (::unshare(CLONE_NEWUSER) != 0 || !set("/proc/self/uid_map", "0 0 1\n") ||
        !set("/proc/sys/user/max_inotify_watches", "5\n")) {
      say("SKIP user namespaces unavailable");
      ::_exit(0);
    }
    try {
      Watcher w;
      w.add_root("rootfs", tmp / "tree");
      say("NO ERROR");
    } catch (const qb::Error& e) {
      say(std::string(e.what()) + "\n" + e.hint());
    }
    ::_exit(0);
  }
  ::close(p[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(p[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  qb::remove_all_quiet(tmp);
  if (out.starts_with("SKIP")) {
    WARN(out);
    return;
  }
  INFO(out);
  CHECK_THAT(out, Catch::Contains("out of inotify watches (fs.inotify.max_user_watches = "));
  CHECK_THAT(out, Catch::Contains("needs 22 directories"));  // tree, 10 dN, 10 dN/x, parent
  CHECK_THAT(out, Catch::Contains("this user namespace allows 5"));
  CHECK_THAT(out, Catch::Contains("sudo sysctl fs.inotify.max_user_watches="));
}

TEST_CASE("ignore: default patterns and the caller's rules") {
  IgnoreRules none;
  CHECK_FALSE(none.ignored("a.swp", "a.swp", "/r/a.swp"));

  std::vector<std::string> pats{"*.o", "/out", "build/gen/", ""};
  IgnoreRules r(pats, {"/r/export/"}, true);
  CHECK(r.ignored(".motd.swp", "etc/.motd.swp", "/r/etc/.motd.swp"));
  CHECK(r.ignored("4913", "etc/4913", "/r/etc/4913"));
  CHECK(r.ignored("motd~", "etc/motd~", "/r/etc/motd~"));
  CHECK(r.ignored(".#motd", "etc/.#motd", "/r/etc/.#motd"));
  CHECK_FALSE(r.ignored("motd", "etc/motd", "/r/etc/motd"));
  CHECK_FALSE(r.ignored("4913x", "4913x", "/r/4913x"));
  CHECK(r.ignored("x.o", "a/b/x.o", "/r/a/b/x.o"));
  CHECK(r.ignored("out", "out", "/r/out"));
  CHECK_FALSE(r.ignored("out", "a/out", "/r/a/out"));  // anchored
  CHECK(r.ignored("gen", "build/gen", "/r/build/gen"));
  CHECK(r.ignored("export", "export", "/r/export"));
  CHECK_FALSE(r.ignored("export", "a/export", "/r/a/export"));

  IgnoreRules no_defaults(pats, {}, false);
  CHECK_FALSE(no_defaults.ignored("a.swp", "a.swp", "/r/a.swp"));
}
