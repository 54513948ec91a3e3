#pragma once
// The kernel modules a boot needs: the closure of the requested names over each
// module's own .modinfo (depends=, softdep=, alias=), read with libkmod. Works on a
// bare modules tree as packages ship it: no modules.dep, no depmod. Built-in modules
// (modules.builtin, modules.builtin.modinfo) are skipped.
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <string>
#include <vector>

struct kmod_ctx;

namespace qb::initramfs {

namespace fs = std::filesystem;

struct ModuleFile {
  std::string name;        // normalised: '-' becomes '_'
  fs::path path;           // in the modules tree, possibly .ko.xz/.ko.zst/.ko.gz
  std::string rel_path;    // relative to the modules tree, compression suffix removed
  std::vector<std::string> depends;  // names, load before this one
};

class ModuleTree {
public:
  // modules_dir is lib/modules/<release>. Throws Error when it is not a modules tree.
  ModuleTree(fs::path modules_dir, std::string release);
  ~ModuleTree();
  ModuleTree(const ModuleTree&) = delete;
  ModuleTree& operator=(const ModuleTree&) = delete;

  // Load order for `names` and everything they need (dependencies first). Names may be
  // module names (with '-' or '_') or aliases such as fs-9p. Throws Error for a name
  // that is neither a module of this tree nor built in, or a module built for another
  // kernel release. A name ending in `?` (mkinitcpio's optional module) that is neither
  // is left out instead.
  std::vector<ModuleFile> closure(const std::vector<std::string>& names);

  bool is_builtin(const std::string& name) const;
  // The firmware files module NAME names in its .modinfo (firmware=), as given there.
  const std::vector<std::string>& firmware(const std::string& name);
  // The loadable modules NAME stands for, as `modprobe -R` resolves it: the module of
  // that name, else those whose alias patterns match; empty for built-in or unknown.
  std::vector<std::string> providers(const std::string& name);
  // name -> path of every module file of the tree.
  const std::unordered_map<std::string, std::string>& files() const { return files_; }
  const fs::path& dir() const { return dir_; }

  static std::string normalise(std::string name);

  // Where the alias index of this tree is kept between builds (read when present,
  // written after the one slow scan). Only for trees that never change.
  void set_alias_cache(fs::path file) { alias_cache_ = std::move(file); }

private:
  struct Info {
    std::vector<std::string> depends, pre, post, aliases, firmware;
    std::string vermagic_release;
  };
  const Info& info(const std::string& name);
  std::string resolve_alias(const std::string& alias);  // empty when none
  std::vector<std::string> resolve_alias_all(const std::string& alias);
  std::vector<std::string> lookup_alias(const std::string& alias);  // sorted module names
  void scan_aliases();
  bool has_alias_index_ = false;
  fs::path alias_cache_;
  void visit(const std::string& name, const std::string& wanted_by, std::set<std::string>& seen,
             std::set<std::string>& done, std::vector<ModuleFile>& out);

  fs::path dir_;
  std::string release_;
  kmod_ctx* ctx_ = nullptr;
  void load_builtin_aliases();
  std::unordered_map<std::string, std::string> files_;  // name -> path (strings: fs::path splits on construction)
  std::set<std::string> builtin_;
  std::map<std::string, std::string> builtin_aliases_;  // alias -> builtin name, loaded lazily
  bool builtin_aliases_loaded_ = false;
  std::map<std::string, Info> info_cache_;
  bool aliases_scanned_ = false;
  std::multimap<std::string, std::string> aliases_;  // alias pattern -> module
};

// modules.dep text for `mods` (paths relative to the tree, as depmod writes them):
// each module followed by all its transitive dependencies, the last to load first.
std::string render_modules_dep(const std::vector<ModuleFile>& mods);

// Strips .xz/.zst/.gz; "" when the path is not a module.
std::string module_rel_path(const std::string& path);

} // namespace qb::initramfs
