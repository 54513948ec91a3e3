#include "kernel/scan.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <set>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "core/log.hpp"
#include "core/sha256.hpp"
#include "kernel/archive_stream.hpp"
#include "kernel/bzimage.hpp"
#include "kernel/tree_writer.hpp"

namespace qb::kernel {

namespace {

constexpr std::int64_t max_image_size = 256 << 20;

std::string_view normalize(std::string_view p) {
  while (p.starts_with("./")) p.remove_prefix(2);
  while (p.starts_with('/')) p.remove_prefix(1);
  while (p.ends_with('/')) p.remove_suffix(1);
  return p;
}

std::string_view basename(std::string_view p) {
  auto s = p.rfind('/');
  return s == std::string_view::npos ? p : p.substr(s + 1);
}

// boot/vmlinuz-R, boot/bzImage, arch/boot/x86_64/vmlinuz-linux, casper/vmlinuz, ...
bool is_image_name(std::string_view p) {
  auto b = basename(p);
  if (b.ends_with(".sig") || b.ends_with(".efi.signed") || b.ends_with(".old")) return false;
  return b.starts_with("vmlinuz") || b.starts_with("bzImage");
}

std::string config_release(std::string_view p) {
  auto b = basename(p);
  if (p.starts_with("boot/") && b.starts_with("config-")) return std::string(b.substr(7));
  return {};
}

class TreeSet {
public:
  explicit TreeSet(const fs::path& work) : work_(work) {}
  TreeWriter& writer(const std::string& release, std::string_view where, ScanResult& r) {
    auto it = writers_.find(release);
    if (it == writers_.end()) {
      it = writers_.emplace(release, TreeWriter(work_ / release)).first;
      r.trees[release] = ModuleTree{work_ / release, std::string(where), 0};
    }
    return it->second;
  }
  void finish(ScanResult& r) {
    for (auto& [rel, w] : writers_) r.trees[rel].count = w.module_count();
  }

private:
  fs::path work_;
  std::map<std::string, TreeWriter> writers_;
};

// Decides which images keep their data (ScanResult's memory bound, see ImageCandidate::
// kept): at most one without ScanOptions::release; with it, the first of that release
// and up to four without a release string (their file name may say it). An image
// without a boot header, or a copy of one seen, is left out.
class ImageKeeper {
public:
  explicit ImageKeeper(const ScanOptions& o) : opts_(o) {}
  // Fills c.release and c.kept (dropping c.data when not kept). False: leave it out.
  bool admit(ImageCandidate& c) {
    if (!has_boot_header(c.data)) {
      log::debug("{}: no boot header, not a kernel image", c.where);
      return false;
    }
    try {
      c.release = parse_bzimage(c.data, c.where).release;
    } catch (const Error&) {
      c.bad_header = true;
    }
    if (!hashes_.insert(to_hex(sha256(c.data))).second) return false;  // the same file twice
    if (c.bad_header) {
      c.kept = !kept_bad_;  // its error is the message when it is the only image
      kept_bad_ = true;
    } else if (!opts_.release) {
      c.kept = !kept_first_;
      kept_first_ = true;
    } else if (c.release == *opts_.release) {
      c.kept = !kept_wanted_;
      kept_wanted_ = true;
    } else {
      c.kept = c.release.empty() && kept_unnamed_++ < 4;
    }
    if (!c.kept) std::string().swap(c.data);
    return true;
  }

private:
  const ScanOptions& opts_;
  std::set<std::string> hashes_;
  bool kept_bad_ = false, kept_first_ = false, kept_wanted_ = false;
  int kept_unnamed_ = 0;
};

} // namespace

bool split_modules_path(std::string_view p, std::string& release, std::string& rest) {
  if (p.starts_with("usr/")) p.remove_prefix(4);
  if (!p.starts_with("lib/modules/")) return false;
  p.remove_prefix(12);
  auto s = p.find('/');
  release = std::string(p.substr(0, s));
  rest = s == std::string_view::npos ? std::string() : std::string(p.substr(s + 1));
  return !release.empty();
}

ScanResult scan_archive(const fs::path& path, SourceKind kind, const ScanOptions& opts) {
  ScanResult r;
  ArchiveStream in(path, kind);
  TreeSet trees(opts.work);
  ImageKeeper keeper(opts);
  std::string release, rest;
  const fs::path config_dir = opts.work.string() + ".configs";
  while (archive_entry* e = in.next()) {
    std::string_view name = normalize(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
    auto type = archive_entry_filetype(e);
    if (!is_safe_relative(name)) { in.skip(); continue; }

    if (split_modules_path(name, release, rest)) {
      if (rest == "vmlinuz" || rest == "bzImage") {
        // Arch: the kernel sits in its modules directory. Fall through to the image case.
      } else {
        if (!opts.modules) { in.skip(); continue; }
        std::string where = std::string(name.starts_with("usr/") ? "usr/" : "") + "lib/modules/" + release;
        auto& w = trees.writer(release, where, r);
        if (rest.empty() || type == AE_IFDIR) {
          if (!rest.empty()) w.make_dir(rest);
        } else if (const char* hl = archive_entry_hardlink(e)) {
          std::string hrel, hrest;
          if (split_modules_path(normalize(hl), hrel, hrest) && hrel == release && is_safe_relative(hrest))
            w.make_hardlink(rest, hrest);
        } else if (type == AE_IFLNK) {
          w.make_symlink(rest, archive_entry_symlink(e) ? archive_entry_symlink(e) : "");
        } else if (type == AE_IFREG) {
          Fd fd = w.create_file(rest, archive_entry_perm(e) | 0600);
          fs::path out = w.root() / rest;
          in.read_data([&](const char* d, std::size_t n, std::int64_t off) { write_at(fd.get(), d, n, off, out); });
          continue;
        }
        in.skip();
        continue;
      }
    }
    if (type == AE_IFREG && opts.images && is_image_name(name) && archive_entry_size(e) < max_image_size) {
      ImageCandidate c{std::string(name), {}, true, {}};
      c.data.reserve(static_cast<std::size_t>(std::max<la_int64_t>(archive_entry_size(e), 0)));
      in.read_data([&](const char* d, std::size_t n, std::int64_t off) {
        if (static_cast<std::size_t>(off) > c.data.size()) c.data.resize(static_cast<std::size_t>(off));
        c.data.append(d, n);
      });
      if (!keeper.admit(c)) continue;
      bool stop = c.kept && opts.on_image && opts.on_image(c);
      r.images.push_back(std::move(c));
      if (stop) return r;
      continue;
    }
    if (type == AE_IFREG && opts.images) {
      if (auto rel = config_release(name); !rel.empty() && archive_entry_size(e) < (16 << 20) &&
                                           !r.configs.contains(rel) && (!opts.release || rel == *opts.release) &&
                                           r.configs.size() < 16) {
        // To a file, not memory; the first of a release, and at most 16 (a package has
        // one per kernel).
        fs::create_directories(config_dir);
        fs::path out = config_dir / std::to_string(r.configs.size());
        Fd fd(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!fd) throw Error::from_errno("cannot create", out);
        in.read_data([&](const char* d, std::size_t n, std::int64_t off) { write_at(fd.get(), d, n, off, out); });
        r.configs[rel] = out;
        continue;
      }
      if (name.ends_with(".sfs") || name.ends_with(".squashfs") || name.ends_with(".erofs"))
        r.squashfs_images.emplace_back(name);
    }
    in.skip();
  }
  trees.finish(r);
  return r;
}

namespace {

void copy_tree(const fs::path& from, TreeWriter& w) {
  std::error_code ec;
  auto it = fs::recursive_directory_iterator(from, fs::directory_options::none, ec);
  if (ec) throw Error::from_errno("cannot read directory", from, {}, ec.value());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) throw Error::from_errno("cannot read directory", from, {}, ec.value());
    const auto& de = *it;
    std::string rel = fs::relative(de.path(), from).string();
    auto st = de.symlink_status(ec);
    if (fs::is_symlink(st)) {
      w.make_symlink(rel, fs::read_symlink(de.path(), ec).string());
    } else if (fs::is_directory(st)) {
      w.make_dir(rel);
    } else if (fs::is_regular_file(st)) {
      w.copy_file(de.path(), rel, static_cast<unsigned>(st.permissions()) | 0600);
    }
  }
}

bool looks_like_modules_tree(const fs::path& d) {
  std::error_code ec;
  return fs::exists(d / "modules.order", ec) || fs::exists(d / "modules.builtin", ec) ||
         fs::is_directory(d / "kernel", ec);
}

} // namespace

ScanResult scan_directory(const fs::path& dir, const ScanOptions& opts) {
  ScanResult r;
  std::error_code ec;
  auto add_tree = [&](const fs::path& tree, const std::string& release) {
    if (!opts.modules || r.trees.contains(release)) return;
    TreeWriter w(opts.work / release);
    copy_tree(tree, w);
    fs::remove(w.root() / "vmlinuz", ec);  // Arch layout: the kernel is stored as bzImage
    r.trees[release] = ModuleTree{w.root(), tree.string(), w.module_count()};
  };
  auto add_image = [&](const fs::path& p) {
    if (!opts.images) return;
    auto size = fs::file_size(p, ec);
    if (ec || size >= static_cast<std::uintmax_t>(max_image_size)) return;
    ImageCandidate c{fs::relative(p, dir, ec).string(), read_file(p), true, {}};
    if (opts.on_image) opts.on_image(c);
    r.images.push_back(std::move(c));
  };

  if (looks_like_modules_tree(dir)) {
    add_tree(dir, fs::canonical(dir, ec).filename().string());
    return r;
  }
  bool modules_dir = false;  // dir is a lib/modules: subdirectories are trees
  for (auto& sub : fs::directory_iterator(dir, ec))
    if (sub.is_directory(ec) && looks_like_modules_tree(sub.path())) modules_dir = true;
  std::vector<fs::path> bases = modules_dir ? std::vector<fs::path>{dir}
                                            : std::vector<fs::path>{dir / "usr/lib/modules", dir / "lib/modules"};
  for (auto& base : bases) {
    for (auto& sub : fs::directory_iterator(base, ec)) {
      if (!sub.is_directory(ec)) continue;
      auto release = sub.path().filename().string();
      if (fs::is_regular_file(sub.path() / "vmlinuz", ec)) add_image(sub.path() / "vmlinuz");
      add_tree(sub.path(), release);
    }
  }
  for (auto& f : fs::directory_iterator(dir / "boot", ec)) {
    auto name = f.path().filename().string();
    if (f.is_regular_file(ec) && is_image_name(name)) add_image(f.path());
    if (f.is_regular_file(ec) && name.starts_with("config-") && opts.images && fs::file_size(f.path(), ec) < (16 << 20))
      r.configs[name.substr(7)] = f.path();
  }
  return r;
}

} // namespace qb::kernel
