#include <unistd.h>

#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "kernel/scan.hpp"
#include "kernel/store.hpp"
#include "kernel/tree_writer.hpp"

using namespace qb::kernel;

namespace {

struct TempHome {
  fs::path path = qb::make_temp_dir(fs::temp_directory_path(), "qb-store-test");
  ~TempHome() { qb::remove_all_quiet(path); }
};

KernelEntry put(KernelStore& s, const std::string& id, const std::string& release, const std::string& name = {}) {
  KernelEntry e;
  e.id = id;
  e.release = release;
  e.arch = "x86_64";
  e.dir = s.root() / id;
  e.bzimage = e.dir / "bzImage";
  e.modules_dir = e.dir / "modules";
  e.module_count = 3;
  e.source = "test";
  e.name = name;
  fs::create_directories(e.modules_dir);
  write_meta(e, e.dir);
  return e;
}

} // namespace

TEST_CASE("store: list, find by id / prefix / release / name, default, remove") {
  TempHome home;
  KernelStore s(home.path);
  CHECK(s.list().empty());
  CHECK_THROWS_WITH(s.resolve(std::nullopt), Catch::Contains("no kernel in the store"));
  put(s, "6.1.0-1-amd64-aaaaaaaaaaaa", "6.1.0-1-amd64");
  put(s, "6.1.0-2-amd64-bbbbbbbbbbbb", "6.1.0-2-amd64", "second");
  auto all = s.list();
  REQUIRE(all.size() == 2);
  CHECK(all[0].vmlinux == std::nullopt);
  CHECK(all[0].bzimage == s.root() / "6.1.0-1-amd64-aaaaaaaaaaaa" / "bzImage");
  CHECK(s.find("6.1.0-2-amd64").id == "6.1.0-2-amd64-bbbbbbbbbbbb");
  CHECK(s.find("second").id == "6.1.0-2-amd64-bbbbbbbbbbbb");
  CHECK(s.find("6.1.0-1").id == "6.1.0-1-amd64-aaaaaaaaaaaa");
  CHECK_THROWS_WITH(s.find("6.1.0"), Catch::Contains("matches several kernels"));
  CHECK_THROWS_WITH(s.find("7.0"), Catch::Contains("there are: 6.1.0-1-amd64-aaaaaaaaaaaa, 6.1.0-2-amd64-bbbbbbbbbbbb"));
  CHECK_THROWS_WITH(s.resolve(std::nullopt), Catch::Contains("several kernels and no default"));

  s.set_default("second");
  CHECK(s.default_id() == "6.1.0-2-amd64-bbbbbbbbbbbb");
  CHECK(s.resolve(std::nullopt).is_default);
  s.remove("second");
  CHECK_FALSE(s.default_id());
  CHECK(s.list().size() == 1);
  CHECK(s.resolve(std::nullopt).id == "6.1.0-1-amd64-aaaaaaaaaaaa");  // the only one
}

TEST_CASE("store: broken entries are skipped, stale temp dirs of dead adds swept") {
  TempHome home;
  KernelStore s(home.path);
  s.ensure_root();
  put(s, "good-000000000000", "good");
  fs::create_directories(s.root() / "broken");
  qb::write_file_atomic(s.root() / "broken" / "meta.json", "{not json");
  CHECK(s.list().size() == 1);
  fs::create_directories(s.root() / ".add-999999999.abcdef" / "trees");  // no such pid
  fs::create_directories(s.root() / (".add-" + std::to_string(::getpid()) + ".abcdef"));  // alive
  s.sweep_stale();
  CHECK_FALSE(fs::exists(s.root() / ".add-999999999.abcdef"));
  CHECK(fs::exists(s.root() / (".add-" + std::to_string(::getpid()) + ".abcdef")));
}

TEST_CASE("paths inside sources: modules trees and safety") {
  std::string rel, rest;
  CHECK(split_modules_path("lib/modules/6.1.0-1-amd64/kernel/fs/x.ko", rel, rest));
  CHECK(rel == "6.1.0-1-amd64");
  CHECK(rest == "kernel/fs/x.ko");
  CHECK(split_modules_path("usr/lib/modules/6.6.1-arch1-1/vmlinuz", rel, rest));
  CHECK(rest == "vmlinuz");
  CHECK_FALSE(split_modules_path("boot/vmlinuz-6.1", rel, rest));
  CHECK(is_safe_relative("kernel/fs/x.ko"));
  CHECK_FALSE(is_safe_relative("../x"));
  CHECK_FALSE(is_safe_relative("a/../../x"));
  CHECK_FALSE(is_safe_relative("/etc/passwd"));
  CHECK_FALSE(is_safe_relative(""));
  CHECK(is_module_file("kernel/a.ko.zst"));
  CHECK_FALSE(is_module_file("modules.order"));
}
