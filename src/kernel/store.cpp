#include "kernel/store.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "core/log.hpp"

namespace qb::kernel {

namespace {

constexpr const char* add_hint = "add one with `quickboot kernel add SOURCE` (a .deb, Arch package, ISO, rootfs or bzImage)";

std::string ids_of(const std::vector<KernelEntry>& v) {
  std::string s;
  for (auto& e : v) s += (s.empty() ? "" : ", ") + e.id;
  return s;
}

} // namespace

KernelStore::KernelStore(fs::path home) : root_(std::move(home) / "kernels") {}

KernelEntry load_entry(const fs::path& dir) {
  fs::path meta = dir / "meta.json";
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(meta));
  } catch (const nlohmann::json::exception& ex) {
    throw Error(fmt::format("cannot parse {}: {}", meta.string(), ex.what()),
                fmt::format("remove the broken entry with `rm -r {}`", dir.string()));
  }
  KernelEntry e;
  try {
    e.id = j.at("id").get<std::string>();
    e.release = j.at("release").get<std::string>();
    e.arch = j.at("arch").get<std::string>();
    e.dir = dir;
    e.bzimage = dir / j.at("bzimage").get<std::string>();
    if (j.contains("vmlinux") && !j["vmlinux"].is_null()) e.vmlinux = dir / j["vmlinux"].get<std::string>();
    if (j.contains("config") && !j["config"].is_null()) e.config = dir / j["config"].get<std::string>();
    e.modules_dir = dir / j.at("modules").get<std::string>();
    e.module_count = j.at("module_count").get<std::size_t>();
    e.source = j.value("source", "");
    e.name = j.value("name", "");
    e.added = j.value("added", "");
  } catch (const nlohmann::json::exception& ex) {
    throw Error(fmt::format("{} lacks a field: {}", meta.string(), ex.what()),
                fmt::format("remove the broken entry with `rm -r {}`", dir.string()));
  }
  return e;
}

void write_meta(const KernelEntry& e, const fs::path& dir) {
  auto rel = [&](const fs::path& p) { return p.lexically_relative(e.dir).string(); };
  nlohmann::json j = {
      {"id", e.id},
      {"release", e.release},
      {"arch", e.arch},
      {"bzimage", rel(e.bzimage)},
      {"vmlinux", e.vmlinux ? nlohmann::json(rel(*e.vmlinux)) : nlohmann::json(nullptr)},
      {"config", e.config ? nlohmann::json(rel(*e.config)) : nlohmann::json(nullptr)},
      {"modules", rel(e.modules_dir)},
      {"module_count", e.module_count},
      {"source", e.source},
      {"name", e.name},
      {"added", e.added},
  };
  write_file_atomic(dir / "meta.json", j.dump(2) + "\n");
}

std::vector<KernelEntry> KernelStore::list() const {
  std::vector<KernelEntry> out;
  std::error_code ec;
  auto def = default_id();
  for (auto& d : fs::directory_iterator(root_, ec)) {
    auto name = d.path().filename().string();
    if (name.starts_with('.') || !d.is_directory(ec) || !fs::exists(d.path() / "meta.json", ec)) continue;
    try {
      auto e = load_entry(d.path());
      e.is_default = def && *def == e.id;
      out.push_back(std::move(e));
    } catch (const Error& err) {
      log::warn("skipping {}: {}", d.path().string(), err.what());
    }
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.id < b.id; });
  return out;
}

std::optional<KernelEntry> KernelStore::get(const std::string& id) const {
  std::error_code ec;
  if (id.empty() || id.starts_with('.') || id.find('/') != std::string::npos ||
      !fs::exists(root_ / id / "meta.json", ec))
    return std::nullopt;
  auto e = load_entry(root_ / id);
  auto def = default_id();
  e.is_default = def && *def == e.id;
  return e;
}

KernelEntry KernelStore::find(const std::string& id) const {
  // "" would match every entry without a --name, and be a prefix of every id.
  if (id.empty()) throw Error("an empty kernel id matches nothing", "give an id, a unique id prefix, a release or a --name");
  if (auto e = get(id)) return *e;
  auto all = list();
  if (all.empty()) throw Error(fmt::format("no kernel '{}': the store {} is empty", id, root_.string()), add_hint);
  std::vector<KernelEntry> hits;
  for (auto& e : all)
    if ((!e.name.empty() && e.name == id) || e.release == id) hits.push_back(e);
  if (hits.empty())
    for (auto& e : all)
      if (e.id.starts_with(id)) hits.push_back(e);
  if (hits.size() == 1) return hits.front();
  if (hits.empty())
    throw Error(fmt::format("no kernel '{}' in {}; there are: {}", id, root_.string(), ids_of(all)),
                "give an id, a unique id prefix, a release or a --name from `quickboot kernel list`");
  throw Error(fmt::format("'{}' matches several kernels: {}", id, ids_of(hits)), "give the full id");
}

KernelEntry KernelStore::resolve(const std::optional<std::string>& id) const {
  if (id) return find(*id);
  if (auto def = default_id()) return *get(*def);
  auto all = list();
  if (all.size() == 1) return all.front();
  if (all.empty()) throw Error(fmt::format("no kernel in the store {}", root_.string()), add_hint);
  throw Error(fmt::format("several kernels and no default: {}", ids_of(all)),
              "pick one with `quickboot kernel default ID`, or pass --kernel ID");
}

std::optional<std::string> KernelStore::default_id() const {
  std::error_code ec;
  if (!fs::exists(root_ / "default", ec)) return std::nullopt;
  std::string id;
  try {
    id = read_file(root_ / "default");
  } catch (const Error&) {
    return std::nullopt;
  }
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  if (id.empty() || id.find('/') != std::string::npos || !fs::exists(root_ / id / "meta.json", ec)) return std::nullopt;
  return id;
}

void KernelStore::set_default(const std::string& id) {
  auto e = find(id);
  write_file_atomic(root_ / "default", e.id + "\n");
}

void KernelStore::remove(const std::string& id) {
  auto e = find(id);
  bool was_default = e.is_default;
  // Rename first so no reader ever sees a half-deleted entry.
  fs::path gone = make_temp_dir(root_, ".rm");
  if (::rename(e.dir.c_str(), (gone / "entry").c_str()) != 0) {
    int err = errno;
    remove_all_quiet(gone);
    throw Error::from_errno("cannot remove", e.dir, "check that the kernel store is writable", err);
  }
  if (was_default) {
    std::error_code ec;
    fs::remove(root_ / "default", ec);
  }
  remove_all_quiet(gone);
}

void KernelStore::ensure_root() const {
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec || ::access(root_.c_str(), W_OK) != 0) {
    int err = ec ? ec.value() : errno;
    throw Error::from_errno("cannot write to the kernel store", root_,
                            "set QUICKBOOT_HOME to a writable directory (or fix the permissions of this one)", err);
  }
}

void KernelStore::sweep_stale() const noexcept {
  std::error_code ec;
  for (auto& d : fs::directory_iterator(root_, ec)) {
    auto name = d.path().filename().string();
    if (name.starts_with(".rm.")) remove_all_quiet(d.path());
  }
  sweep_orphaned_dirs(root_, ".add-");  // .add-<pid>.XXXXXX: stale when that process is gone
}

} // namespace qb::kernel
