#include "kernel/add.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/file_util.hpp"
#include "core/log.hpp"
#include "core/sha256.hpp"
#include "kernel/bzimage.hpp"
#include "kernel/module_index.hpp"
#include "kernel/scan.hpp"
#include "kernel/source.hpp"
#include "kernel/tree_writer.hpp"
#include "kernel/vmlinux.hpp"

namespace qb::kernel {

namespace {

constexpr const char* modules_hint =
    "pass the kernel's modules with --modules: a lib/modules/{0} directory, a rootfs holding it, or the "
    "kernel package; or --modules none for a kernel with everything built in";

// Removes the work directory unless the entry was renamed out of it.
struct WorkDir {
  fs::path path;
  ~WorkDir() { remove_all_quiet(path); }
};

struct Chosen {
  const ImageCandidate* image = nullptr;
  BzImage boot;
  std::string release;
};

std::string safe_name(std::string s) {
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_' && c != '+') c = '_';
  return s;
}

std::string now_utc() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void write_plain(const fs::path& p, std::string_view data) {
  Fd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) throw Error::from_errno("cannot create", p, "check that the kernel store is writable");
  write_at(fd.get(), data.data(), data.size(), -1, p);
}

// The release an image is for: its header's, else the one its name implies.
std::string image_release(const BzImage& b, std::string_view where) {
  if (!b.release.empty()) return b.release;
  std::string rel, rest;
  if (split_modules_path(where, rel, rest)) return rel;
  auto base = where.substr(where.rfind('/') + 1);
  if (base.starts_with("vmlinuz-")) return std::string(base.substr(8));
  return {};
}

Chosen choose_image(const ScanResult& r, const AddOptions& o, SourceKind kind, bool has_trees) {
  const std::string src = o.source.string();
  std::vector<Chosen> found;
  std::set<std::string> seen_hashes;
  for (auto& img : r.images) {
    if (!img.kept) {
      // Never the one chosen (scan.hpp): only its release counts, for the message below.
      if (img.bad_header) {
        log::warn("{}: {} is not a usable bzImage, skipped", src, img.where);
        continue;
      }
      Chosen c{&img, {}, {}};
      c.boot.release = img.release;
      c.release = image_release(c.boot, img.where);
      if (!c.release.empty()) found.push_back(std::move(c));
      continue;
    }
    if (!has_boot_header(img.data)) {
      log::debug("{}: {} has no boot header, skipped", src, img.where);
      continue;
    }
    Chosen c{&img, {}, {}};
    try {
      c.boot = parse_bzimage(img.data, kind == SourceKind::bzimage ? src : src + ":" + img.where);
    } catch (const Error&) {
      if (r.images.size() == 1) throw;
      log::warn("{}: {} is not a usable bzImage, skipped", src, img.where);
      continue;
    }
    if (!seen_hashes.insert(to_hex(sha256(img.data))).second) continue;  // same file twice (rootfs)
    c.release = image_release(c.boot, img.where);
    if (c.release.empty() && o.release) c.release = *o.release;
    if (c.release.empty())
      throw Error(fmt::format("{}: {} has no usable kernel version string", src, img.where), "pass --release R to name it");
    if (!valid_release(c.release))
      throw Error(fmt::format("{}: {}: '{}' is not usable as a kernel release (1-64 printable characters, starting "
                              "with a letter or digit, no '/')", src, img.where, ascii_printable(c.release)),
                  "pass --release R to name it");
    found.push_back(std::move(c));
  }
  if (found.empty()) {
    if (kind == SourceKind::directory)
      throw Error(fmt::format("no kernel image in {}: looked for boot/vmlinuz-*, usr/lib/modules/*/vmlinuz", src),
                  "give a rootfs that has a kernel installed, or the bzImage itself with --modules");
    throw Error(fmt::format("no kernel image in {}: it holds no boot/vmlinuz-*, lib/modules/*/vmlinuz or "
                            "arch/boot/*/vmlinuz-*{}", src, has_trees ? " (only modules)" : ""),
                has_trees ? "this is a modules-only package: add the kernel image and pass this with --modules"
                          : "give the package that contains the kernel image (linux-image-*, linux)");
  }
  std::map<std::string, std::vector<Chosen*>> by_release;
  for (auto& c : found) by_release[c.release].push_back(&c);
  if (o.release) {
    auto it = by_release.find(*o.release);
    if (it == by_release.end()) {
      std::string have;
      for (auto& [rel, v] : by_release) have += (have.empty() ? "" : ", ") + rel;
      throw Error(fmt::format("no kernel {} in {}; it has: {}", *o.release, src, have), "pass one of those with --release");
    }
    return *it->second.front();
  }
  if (by_release.size() > 1) {
    std::string list;
    for (auto& [rel, v] : by_release) list += fmt::format("\n  {}  ({})", rel, v.front()->image->where);
    throw Error(fmt::format("{} holds several kernels:{}", src, list),
                fmt::format("pick one with --release, e.g. --release {}", by_release.begin()->first));
  }
  return found.front();
}

ModuleTree choose_tree(ScanResult& r, const std::string& release, const std::string& src, SourceKind kind) {
  if (auto it = r.trees.find(release); it != r.trees.end()) return it->second;
  if (!r.trees.empty()) {
    std::string have;
    for (auto& [rel, t] : r.trees) have += (have.empty() ? "" : ", ") + rel;
    throw Error(fmt::format("the modules in {} are for {}, but the kernel is {}", src, have, release),
                fmt::format("give the modules built with this kernel: --modules with a lib/modules/{} directory or "
                            "the matching package", release));
  }
  if (kind == SourceKind::iso) {
    std::string root = r.squashfs_images.empty() ? "a root image" : r.squashfs_images.front();
    throw Error(fmt::format("{} has no kernel modules outside {}, which quickboot cannot read", src, root),
                fmt::format(modules_hint, release));
  }
  throw Error(fmt::format("no kernel modules for {} in {}", release, src), fmt::format(modules_hint, release));
}

} // namespace

AddResult add_kernel(KernelStore& store, const AddOptions& o) {
  AddResult res;
  if (o.release && !valid_release(*o.release))
    throw Error(fmt::format("--release '{}' is not usable as a kernel release (1-64 printable characters, starting "
                            "with a letter or digit, no '/')", ascii_printable(*o.release)),
                "give the release as `uname -r` prints it, e.g. 6.1.0-28-amd64");
  SourceKind kind = detect_source(o.source);
  res.source_kind = std::string(source_kind_name(kind));
  std::optional<SourceKind> mkind;
  bool no_modules = o.modules && *o.modules == "none";
  if (o.modules && !no_modules) {
    require_exists(*o.modules, "--modules source", "give a lib/modules/<release> directory, a rootfs, a kernel package, or none");
    mkind = detect_source(*o.modules);
    if (*mkind == SourceKind::bzimage || *mkind == SourceKind::iso)
      throw Error(fmt::format("--modules {} is a {}, not a modules tree", *o.modules, source_kind_name(*mkind)),
                  "give a lib/modules/<release> directory, a rootfs, or a kernel package");
  }
  store.ensure_root();
  store.sweep_stale();
  WorkDir work{make_temp_dir(store.root(), fmt::format(".add-{}", ::getpid()))};

  // Decompress the vmlinux of each image while the stream goes on.
  std::map<std::string, std::unique_ptr<VmlinuxJob>> jobs;
  std::optional<KernelEntry> early;  // a one-kernel package whose kernel is already stored
  auto on_image = [&](const ImageCandidate& c) {
    if (!has_boot_header(c.data) || jobs.size() >= 4) return false;
    try {
      auto b = parse_bzimage(c.data, c.where);
      if (o.release && !b.release.empty() && b.release != *o.release) return false;
      if ((kind == SourceKind::deb || kind == SourceKind::tarball) && !b.release.empty()) {
        if ((early = store.get(safe_name(b.release) + "-" + to_hex(sha256(c.data)).substr(0, 12)))) return true;
      }
    } catch (const Error&) {
      return false;  // reported by choose_image
    }
    jobs[c.where] = std::make_unique<VmlinuxJob>(c.data, o.source.string(), work.path / fmt::format("vmlinux.{}", jobs.size()));
    return false;
  };

  ScanOptions so;
  so.images = true;
  so.modules = !o.modules;
  so.work = work.path / "trees";
  so.on_image = on_image;
  so.release = o.release;
  ScanResult r;
  if (kind == SourceKind::bzimage) {
    ImageCandidate c{o.source.filename().string(), read_file(o.source), true, {}};
    on_image(c);
    r.images.push_back(std::move(c));
  } else if (kind == SourceKind::directory) {
    r = scan_directory(o.source, so);
  } else {
    r = scan_archive(o.source, kind, so);
  }
  if (early) {
    res.entry = *early;
    res.already_present = true;
    if (o.make_default || !store.default_id()) store.set_default(res.entry.id);
    res.entry.is_default = store.default_id() == res.entry.id;
    return res;
  }
  Chosen chosen = choose_image(r, o, kind, !r.trees.empty());
  if (!chosen.image->kept) throw Error(fmt::format("internal: {}: the image chosen was not kept", o.source.string()));
  std::string release = chosen.release;

  ModuleTree tree;
  if (no_modules) {
    tree.dir = work.path / "empty-modules";
    fs::create_directories(tree.dir);
    tree.where = "none";
  } else if (o.modules) {
    ScanOptions mo;
    mo.images = false;
    mo.modules = true;
    mo.work = work.path / "mtrees";
    ScanResult mr = *mkind == SourceKind::directory ? scan_directory(*o.modules, mo) : scan_archive(*o.modules, *mkind, mo);
    tree = choose_tree(mr, release, *o.modules, *mkind);
  } else {
    tree = choose_tree(r, release, o.source.string(), kind);
  }

  VmlinuxResult vm;
  if (auto it = jobs.find(chosen.image->where); it != jobs.end()) vm = it->second->get();
  else vm = extract_vmlinux(chosen.image->data, o.source.string(), work.path / "vmlinux.x");
  jobs.clear();

  std::string hash = to_hex(sha256(chosen.image->data));
  KernelEntry e;
  e.release = release;
  e.id = safe_name(release) + "-" + hash.substr(0, 12);
  e.arch = vm.arch.empty() ? (chosen.boot.kernel_64 ? "x86_64" : "i686") : vm.arch;
  e.dir = store.root() / e.id;
  e.bzimage = e.dir / "bzImage";
  e.modules_dir = e.dir / "modules";
  e.module_count = tree.count;
  e.source = fs::absolute(o.source).lexically_normal().string();
  if (o.modules) e.source += " + modules from " + (no_modules ? std::string("none") : fs::absolute(*o.modules).lexically_normal().string());
  e.name = o.name.value_or("");
  e.added = now_utc();

  if (auto existing = store.get(e.id)) {
    res.entry = *existing;
    res.already_present = true;
  } else {
    fs::path staged = work.path / "entry";
    fs::create_directories(staged);
    if (::rename(tree.dir.c_str(), (staged / "modules").c_str()) != 0) throw Error::from_errno("cannot move", tree.dir);
    // The indexes libkmod needs (the guest's modprobe, udev, systemd), made once here.
    write_module_indexes(staged / "modules", release);
    write_plain(staged / "bzImage", chosen.image->data);
    if (vm.path) {
      if (::rename(vm.path->c_str(), (staged / "vmlinux").c_str()) != 0) throw Error::from_errno("cannot move", *vm.path);
      e.vmlinux = e.dir / "vmlinux";
    }
    if (auto c = r.configs.find(release); c != r.configs.end()) {
      write_plain(staged / "config", read_file(c->second));
      e.config = e.dir / "config";
    }
    write_meta(e, staged);
    if (::rename(staged.c_str(), e.dir.c_str()) != 0) {
      if (errno != EEXIST && errno != ENOTEMPTY)
        throw Error::from_errno("cannot move the new entry into", e.dir, "check that the kernel store is writable");
      res.already_present = true;  // another add of the same kernel won the race
    }
    res.entry = *store.get(e.id);
  }
  if (o.make_default || !store.default_id()) store.set_default(res.entry.id);
  res.entry.is_default = store.default_id() == res.entry.id;
  return res;
}

} // namespace qb::kernel
