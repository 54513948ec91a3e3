#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "project/config.hpp"
#include "project/stale.hpp"

using namespace qb::project;

namespace {

struct TempDir {
  fs::path path = qb::make_temp_dir(fs::temp_directory_path(), "qb-project-test");
  ~TempDir() { qb::remove_all_quiet(path); }
};

std::string error_of(const fs::path& root, const std::string& variant = {}) {
  try {
    load(root, variant);
  } catch (const qb::Error& e) {
    return e.what();
  }
  return {};
}

} // namespace

TEST_CASE("local file and variant override key by key") {
  TempDir t;
  qb::write_file_atomic(t.path / "quickboot.toml",
                        "rootfs = \"r\"\n[boot]\nmemory = 256\nappend = [\"a=1\"]\n"
                        "[variant.big.boot]\nmemory = 2048\ncpus = 2\n");
  qb::write_file_atomic(t.path / "quickboot.local.toml", "[boot]\nappend = \"a=2\"\n");
  auto c = load(t.path);
  CHECK(c.rootfs == t.path / "r");
  CHECK(c.memory_mb == 256);
  CHECK(c.append == std::vector<std::string>{"a=2"});
  auto v = load(t.path, "big");
  CHECK(v.memory_mb == 2048);
  CHECK(v.cpus == 2);
  CHECK(v.append == std::vector<std::string>{"a=2"});
}

TEST_CASE("errors name file, line and key") {
  TempDir t;
  qb::write_file_atomic(t.path / "quickboot.toml", "rootfs = \"r\"\n\n[boot]\nmemroy = 1\n");
  CHECK(error_of(t.path) == (t.path / "quickboot.toml").string() + ":4: boot.memroy: unknown key");
  qb::write_file_atomic(t.path / "quickboot.toml", "[boot]\ncpus = \"two\"\n");
  CHECK(error_of(t.path) == (t.path / "quickboot.toml").string() + ":2: boot.cpus: expected an integer, got a string");
  qb::write_file_atomic(t.path / "quickboot.toml", "[variant.a]\nkernal = \"x\"\n");
  CHECK(error_of(t.path) == (t.path / "quickboot.toml").string() + ":2: variant.*.kernal: unknown key");
  qb::write_file_atomic(t.path / "quickboot.toml", "kernel = \"k\"\n[variant.a]\nkernel = \"x\"\n");
  CHECK(error_of(t.path, "nope") == (t.path / "quickboot.toml").string() + ":2: variant.nope: no such variant");
}

TEST_CASE("globs") {
  TempDir t;
  fs::create_directories(t.path / "src/a/b");
  qb::write_file_atomic(t.path / "src/a/b/x.sh", "");
  qb::write_file_atomic(t.path / "src/y.sh", "");
  qb::write_file_atomic(t.path / "src/y.txt", "");
  CHECK(expand_globs(t.path, {"src/*.sh"}).size() == 1);
  CHECK(expand_globs(t.path, {"src/**/*.sh"}).size() == 2);
  CHECK(expand_globs(t.path, {"src"}).size() == 3);
}
