#include "initramfs/module_closure.hpp"

#include <dirent.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <libkmod.h>

#include <algorithm>
#include <functional>
#include <sstream>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/file_util.hpp"

namespace qb::initramfs {

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// fs::relative() canonicalises (a readlink per path component per file: 60,000 system
// calls for a distro tree); a prefix strip is all that is needed here.
std::string relative_to(const fs::path& p, const fs::path& base) {
  std::string s = p.string(), b = base.string();
  if (s.size() > b.size() && s.compare(0, b.size(), b) == 0 && s[b.size()] == '/') return s.substr(b.size() + 1);
  return fs::relative(p, base).string();
}

std::string basename_module(const std::string& rel) {
  auto slash = rel.rfind('/');
  std::string base = rel.substr(slash == std::string::npos ? 0 : slash + 1);
  return ModuleTree::normalise(base.substr(0, base.size() - 3));  // drop ".ko"
}

std::vector<std::string> split_words(const std::string& s, const char* seps) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    i = s.find_first_not_of(seps, i);
    if (i == std::string::npos) break;
    auto j = s.find_first_of(seps, i);
    out.push_back(s.substr(i, j == std::string::npos ? std::string::npos : j - i));
    i = j;
  }
  return out;
}

// Modules that a module loads by name when it runs, not through depends= or softdep=:
// fat mounts with the kernel's default codepage and charset (CONFIG_FAT_DEFAULT_CODEPAGE
// = 437, CONFIG_FAT_DEFAULT_IOCHARSET = ascii), ocfs2 needs configfs mounted, and the
// checksum drivers are found through their crypto- aliases.
std::vector<const char*> runtime_requests(const std::string& module) {
  if (module == "fat") return {"nls_ascii", "nls_cp437"};
  if (module == "ocfs2") return {"configfs"};
  if (module == "btrfs") return {"libcrc32c"};
  if (module == "f2fs") return {"crypto-crc32"};
  if (module == "ext4") return {"crypto-crc32c"};
  return {};
}

} // namespace

std::string module_rel_path(const std::string& path) {
  for (std::string_view suffix : {".ko", ".ko.xz", ".ko.zst", ".ko.gz"}) {
    if (ends_with(path, suffix)) return path.substr(0, path.size() - suffix.size()) + ".ko";
  }
  return {};
}

std::string ModuleTree::normalise(std::string name) {
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

ModuleTree::ModuleTree(fs::path modules_dir, std::string release)
    : dir_(std::move(modules_dir)), release_(std::move(release)) {
  std::error_code ec;
  if (!fs::is_directory(dir_ / "kernel", ec))
    throw Error(fmt::format("{} is not a kernel modules tree (no kernel/ directory in it)", dir_.string()),
                "pass the lib/modules/<release> directory of the kernel");
  // A plain readdir walk: std::filesystem's iterator allocated per entry and was half
  // of a cold initramfs build (measured with callgrind) on a 4,000-module tree.
  std::vector<std::string> stack = {"kernel"};
  while (!stack.empty()) {
    std::string rel_dir = std::move(stack.back());
    stack.pop_back();
    std::string abs = (dir_ / rel_dir).string();
    DIR* d = ::opendir(abs.c_str());
    if (!d) throw Error::from_errno("cannot list the modules in", abs);
    while (dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string rel = rel_dir + "/" + std::string(name);
      unsigned char type = e->d_type;
      if (type == DT_UNKNOWN) {
        struct stat st{};
        if (::stat((dir_ / rel).c_str(), &st) == 0) type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
      }
      if (type == DT_DIR) stack.push_back(std::move(rel));
      else if (type == DT_REG) {
        std::string plain = module_rel_path(rel);
        if (!plain.empty()) files_.emplace(basename_module(plain), abs + "/" + std::string(name));
      }
    }
    ::closedir(d);
  }

  // modules.builtin: one path per line, e.g. kernel/fs/ext4/ext4.ko.
  if (fs::exists(dir_ / "modules.builtin", ec)) {
    std::istringstream in(read_file(dir_ / "modules.builtin"));
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) builtin_.insert(basename_module(module_rel_path(line).empty() ? line : module_rel_path(line)));
  }
  // An empty config list: the host's /etc/modprobe.d must not shape the guest's image.
  static const char* const no_config[] = {nullptr};
  ctx_ = kmod_new(dir_.c_str(), no_config);
  if (!ctx_) throw Error("libkmod: cannot create a context for " + dir_.string());
  kmod_set_log_priority(ctx_, 0);
  has_alias_index_ = fs::exists(dir_ / "modules.alias.bin", ec) && fs::exists(dir_ / "modules.dep.bin", ec);
}

ModuleTree::~ModuleTree() {
  if (ctx_) kmod_unref(ctx_);
}

bool ModuleTree::is_builtin(const std::string& name) const { return builtin_.count(normalise(name)) != 0; }

std::vector<std::string> ModuleTree::providers(const std::string& name) {
  const std::string n = normalise(name);
  if (files_.count(n)) return {n};
  if (builtin_.count(n)) return {};
  std::vector<std::string> out;
  for (auto& m : resolve_alias_all(name))
    if (!builtin_.count(m)) out.push_back(std::move(m));
  return out;
}

const std::vector<std::string>& ModuleTree::firmware(const std::string& name) { return info(normalise(name)).firmware; }

const ModuleTree::Info& ModuleTree::info(const std::string& name) {
  if (auto it = info_cache_.find(name); it != info_cache_.end()) return it->second;
  const std::string& path = files_.at(name);
  kmod_module* mod = nullptr;
  if (kmod_module_new_from_path(ctx_, path.c_str(), &mod) < 0 || !mod)
    throw Error(fmt::format("libkmod cannot open module {}", path));
  kmod_list* list = nullptr;
  int n = kmod_module_get_info(mod, &list);
  if (n < 0) {
    kmod_module_unref(mod);
    throw Error(fmt::format("cannot read the .modinfo of module {} (corrupt, or a compression libkmod lacks)",
                            path),
                "decompress it (xz -d / zstd -d) or check the file");
  }
  Info info;
  kmod_list* l;
  kmod_list_foreach(l, list) {
    std::string key = kmod_module_info_get_key(l);
    std::string value = kmod_module_info_get_value(l) ? kmod_module_info_get_value(l) : "";
    if (key == "depends") {
      for (auto& d : split_words(value, ",")) info.depends.push_back(normalise(d));
    } else if (key == "softdep") {
      // "pre: a b post: c"
      std::vector<std::string>* target = nullptr;
      for (auto& w : split_words(value, " \t")) {
        if (w == "pre:") target = &info.pre;
        else if (w == "post:") target = &info.post;
        else if (target) target->push_back(w);  // a module name or an alias (crc32c, platform:idma64)
      }
    } else if (key == "alias") {
      info.aliases.push_back(value);
    } else if (key == "firmware") {
      if (!value.empty()) info.firmware.push_back(value);
    } else if (key == "vermagic") {
      info.vermagic_release = value.substr(0, value.find(' '));
    }
  }
  kmod_module_info_free_list(list);
  kmod_module_unref(mod);
  return info_cache_.emplace(name, std::move(info)).first->second;
}

void ModuleTree::load_builtin_aliases() {
  if (builtin_aliases_loaded_) return;
  builtin_aliases_loaded_ = true;
  // modules.builtin.modinfo: NUL-separated "name.key=value"; aliases of built-ins.
  std::error_code ec;
  if (fs::exists(dir_ / "modules.builtin.modinfo", ec)) {
    std::string data = read_file(dir_ / "modules.builtin.modinfo");
    for (std::size_t i = 0; i < data.size();) {
      std::size_t end = data.find('\0', i);
      if (end == std::string::npos) end = data.size();
      std::string_view rec(data.data() + i, end - i);
      auto dot = rec.find('.');
      auto eq = rec.find('=');
      if (dot != std::string_view::npos && eq != std::string_view::npos && dot < eq) {
        std::string mod = normalise(std::string(rec.substr(0, dot)));
        builtin_.insert(mod);
        if (rec.substr(dot + 1, eq - dot - 1) == "alias") builtin_aliases_.emplace(rec.substr(eq + 1), mod);
      }
      i = end + 1;
    }
  }

}

void ModuleTree::scan_aliases() {
  if (aliases_scanned_) return;
  aliases_scanned_ = true;
  // Only for names that are not module files: reading every module's .modinfo is the
  // slow path (a second or more for a 4,000-module tree), so it happens at most once,
  // and once per kernel when there is a cache file (the store's trees never change).
  std::error_code ec;
  if (!alias_cache_.empty() && fs::exists(alias_cache_, ec)) {
    std::istringstream in(read_file(alias_cache_));
    for (std::string line; std::getline(in, line);)
      if (auto tab = line.find('\t'); tab != std::string::npos) aliases_.emplace(line.substr(0, tab), line.substr(tab + 1));
    return;
  }
  std::string text;
  for (const auto& [name, path] : files_)
    for (const auto& a : info(name).aliases) {
      aliases_.emplace(a, name);
      text += a + "\t" + name + "\n";
    }
  if (!alias_cache_.empty()) write_file_atomic(alias_cache_, text);
}

std::vector<std::string> ModuleTree::lookup_alias(const std::string& alias) {
  std::vector<std::string> out;
  if (has_alias_index_) {
    // depmod's modules.alias.bin (the store runs depmod when it adds a kernel): a
    // lookup instead of reading the .modinfo of every module of the tree.
    kmod_list* list = nullptr;
    if (kmod_module_new_from_lookup(ctx_, alias.c_str(), &list) < 0) return out;
    kmod_list* l;
    kmod_list_foreach(l, list) {
      kmod_module* m = kmod_module_get_module(l);
      std::string name = normalise(kmod_module_get_name(m));
      kmod_module_unref(m);
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
    }
    kmod_module_unref_list(list);
  } else {
    scan_aliases();
    for (const auto& [pattern, name] : aliases_)
      if (::fnmatch(pattern.c_str(), alias.c_str(), 0) == 0 && std::find(out.begin(), out.end(), name) == out.end())
        out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> ModuleTree::resolve_alias_all(const std::string& alias) { return lookup_alias(alias); }

std::string ModuleTree::resolve_alias(const std::string& alias) {
  load_builtin_aliases();
  if (auto it = builtin_aliases_.find(alias); it != builtin_aliases_.end()) return it->second;
  auto all = lookup_alias(alias);
  return all.empty() ? std::string() : all.front();
}

void ModuleTree::visit(const std::string& name, const std::string& wanted_by, std::set<std::string>& seen,
                       std::set<std::string>& done, std::vector<ModuleFile>& out) {
  if (done.count(name) || builtin_.count(name)) return;
  if (!seen.insert(name).second) return;  // a dependency cycle: the kernel resolves it at load
  const Info& inf = info(name);
  if (!inf.vermagic_release.empty() && inf.vermagic_release != release_)
    throw Error(fmt::format("module {} ({}) was built for kernel {}, not {}", name, files_.at(name),
                            inf.vermagic_release, release_),
                "use the modules tree that came with this kernel");
  // Soft dependencies are optional (as mkinitcpio's `name?`); one naming an alias brings
  // every module that provides it, as modinfo lists them all.
  auto soft = [&](const std::string& raw) {
    const std::string d = normalise(raw);
    if (files_.count(d)) return visit(d, name, seen, done, out);
    // A built-in name can also be an alias of loadable modules (crc32: crc32_pclmul).
    for (const auto& m : resolve_alias_all(raw))
      if (!builtin_.count(m)) visit(m, name, seen, done, out);
  };
  for (const auto& d : inf.pre) soft(d);
  for (const auto& d : inf.depends) {
    if (!files_.count(d) && !builtin_.count(d))
      throw Error(fmt::format("module {} depends on {}, which is not in {}", name, d, dir_.string()),
                  "the modules tree is incomplete; add the kernel's full modules package");
    visit(d, name, seen, done, out);
  }
  (void)wanted_by;
  const std::string& path = files_.at(name);
  out.push_back({name, path, module_rel_path(relative_to(path, dir_)), inf.depends});
  done.insert(name);
  for (const auto& d : inf.post) soft(d);
  // What these modules ask for at run time through request_module(), which no .modinfo
  // declares (mkinitcpio adds the same, as optional modules).
  for (const char* q : runtime_requests(name)) soft(q);
}

std::string render_modules_dep(const std::vector<ModuleFile>& mods) {
  std::map<std::string, const ModuleFile*> by_name;
  for (const auto& m : mods) by_name[m.name] = &m;
  auto path_of = [](const ModuleFile& f) { return f.rel_path; };
  std::string dep;
  for (const auto& m : mods) {
    std::vector<std::string> order;
    std::set<std::string> seen;
    std::function<void(const ModuleFile&)> walk = [&](const ModuleFile& f) {
      for (const auto& d : f.depends) {
        auto it = by_name.find(d);
        if (it == by_name.end() || !seen.insert(d).second) continue;
        walk(*it->second);
        order.push_back(path_of(*it->second));
      }
    };
    walk(m);
    dep += path_of(m) + ":";
    for (auto it = order.rbegin(); it != order.rend(); ++it) dep += " " + *it;
    dep += "\n";
  }
  return dep;
}

std::vector<ModuleFile> ModuleTree::closure(const std::vector<std::string>& names) {
  std::vector<ModuleFile> out;
  std::set<std::string> seen, done;
  for (std::string raw : names) {
    // mkinitcpio's `name?`: add it when this kernel has it, say nothing when not.
    const bool optional = !raw.empty() && raw.back() == '?';
    if (optional) raw.pop_back();
    if (auto ko = raw.find(".ko"); ko != std::string::npos && ko > 0) raw.resize(ko);
    std::string name = normalise(raw);
    if (builtin_.count(name)) continue;
    if (!files_.count(name)) {
      // An alias (sha256, fs-9p, crypto-crc32c): every module of the tree that provides
      // it, as modinfo lists them for mkinitcpio's add_module.
      std::vector<std::string> loadable;
      for (const auto& m : resolve_alias_all(raw))
        if (!builtin_.count(m)) loadable.push_back(m);
      if (loadable.empty()) {
        if (!resolve_alias(raw).empty() || optional) continue;  // built in, or not wanted badly
        throw Error(fmt::format("module '{}' not found: no {}.ko in {} and no module or built-in has that alias",
                                raw, name, dir_.string()),
                    "check the name (`quickboot kernel show` lists the kernel's modules directory)");
      }
      for (const auto& m : loadable) visit(m, "", seen, done, out);
      continue;
    }
    visit(name, "", seen, done, out);
  }
  return out;
}

} // namespace qb::initramfs
