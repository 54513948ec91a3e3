#include "initramfs/install_apply.hpp"

#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "core/log.hpp"
#include "initramfs/decompress.hpp"
#include "initramfs/elf_deps.hpp"
#include "initramfs/ere.hpp"
#include "initramfs/sysroot.hpp"

namespace qb::initramfs {

namespace {

std::string read_link(const fs::path& p) {
  std::error_code ec;
  auto t = fs::read_symlink(p, ec);
  if (ec) throw Error::from_errno("cannot read the symlink", p);
  return t.string();
}

unsigned parse_mode(const std::string& s) {
  if (s.empty()) return 0;
  try {
    return static_cast<unsigned>(std::stoul(s, nullptr, 8)) & 07777;
  } catch (...) {
    throw Error(fmt::format("'{}' is not an octal file mode", s));
  }
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i <= s.size();) {
    auto j = s.find(sep, i);
    if (j == std::string::npos) j = s.size();
    if (j > i) out.emplace_back(s, i, j - i);
    i = j + 1;
  }
  return out;
}

class Applier {
public:
  Applier(const InstallEnv& env, ModuleTree& mods, CpioArchive& image, CpioArchive& early)
      : env_(env), mods_(mods), image_(image), early_(early) {}

  void run(const InstallAction& a) {
    hook_ = a.hook;
    at_ = a.at;
    auto arg = [&](std::size_t i) { return i < a.args.size() ? a.args[i] : std::string(); };
    if (a.kind == "file") add_file(image_, guest(arg(0)), arg(1), parse_mode(arg(2)));
    else if (a.kind == "early") add_file(early_, guest(arg(0)), arg(1), parse_mode(arg(2)));
    else if (a.kind == "dir") dir(image_, arg(0), parse_mode(arg(1)));
    else if (a.kind == "earlydir") dir(early_, arg(0), parse_mode(arg(1)));
    else if (a.kind == "symmods") symbol_modules(arg(0), arg(1), {});
    else if (a.kind == "checkedsymmods") symbol_modules(arg(0), arg(1), arg(2));
    else if (a.kind == "symlink") symlink(image_, arg(0), arg(1));
    else if (a.kind == "binary") binary(arg(0), arg(1), parse_mode(arg(2)));
    else if (a.kind == "fulldir") full_dir(guest(arg(0)), arg(1), arg(2));
    else if (a.kind == "firmware") firmware(arg(0));
    else if (a.kind == "udev") udev_rule(arg(0));
    else if (a.kind == "allmods") module_patterns(arg(0), arg(1), {});
    else if (a.kind == "checkedmods") module_patterns(arg(0), arg(1), arg(2));
    else log::warn("install hook '{}': unknown request '{}' ignored", hook_, a.kind);
  }

  ApplyOutput out;

private:
  [[noreturn]] void fail(const std::string& what, std::string hint = {}) const {
    throw Error(fmt::format("install hook '{}'{}: {}", hook_, at_.empty() ? "" : " (" + at_ + ")", what), std::move(hint));
  }

  // A source path as the built system names it: relative ones from its root.
  std::string guest(const std::string& p) const { return p.empty() || p.front() == '/' ? p : "/" + p; }

  fs::path host(const std::string& guest_path, bool follow_last = true) const {
    return path_in_root(env_.sysroot, guest_path, follow_last);
  }
  // The path the built system's realpath would print.
  std::string real(const std::string& guest_path) const {
    std::string h = host(guest_path).string(), r = env_.sysroot.string();
    if (r == "/") return h;
    return h.size() > r.size() ? h.substr(r.size()) : "/";
  }

  void add_file(CpioArchive& to, const std::string& src, std::string dest, unsigned mode) {
    if (dest.empty()) dest = src;
    if (!dest.empty() && dest.back() == '/') dest += fs::path(src).filename().string();
    const fs::path h = host(src, false);
    struct stat st{};
    if (::lstat(h.c_str(), &st) != 0)
      fail(fmt::format("file not found: {}{}", src, env_.sysroot == "/" ? "" : " (in " + env_.sysroot.string() + ")"),
           "install the file there, or leave the hook out of HOOKS");
    if (S_ISLNK(st.st_mode)) {
      // As mkinitcpio: the link's final target is added at its own path, the link at dest.
      const std::string target = real(src);
      if (target != dest) {
        add_file(to, target, target, mode);
        symlink(to, dest, src);
        return;
      }
      if (::stat(h.c_str(), &st) != 0) fail("dangling symlink: " + src);
    }
    if (!S_ISREG(st.st_mode)) fail(fmt::format("{} is not a regular file", src));
    const fs::path file = host(src);
    to.add_host_file(dest, file, mode ? mode : (st.st_mode & 07777));
    out.paths.push_back(dest);
    out.sources.push_back(file);
  }

  void dir(CpioArchive& to, const std::string& path, unsigned mode) {
    to.add_dir(path, mode ? mode : 0755);
    out.paths.push_back(path);
  }

  void symlink(CpioArchive& to, const std::string& name, std::string target) {
    // One argument: the link as the built system has it; a target that is itself a
    // link: its final target (mkinitcpio's rules).
    if (target.empty() || target == name) {
      const fs::path h = host(name, false);
      std::error_code ec;
      if (!fs::is_symlink(h, ec)) fail(fmt::format("add_symlink {}: not a symlink in the built system", name));
      std::string obj = read_link(h);
      bool same_dir = obj.find('/') == std::string::npos && !fs::is_symlink(h.parent_path() / obj, ec);
      target = same_dir ? obj : real(name);
    } else {
      std::error_code ec;
      if (target.front() == '/' && fs::is_symlink(host(target, false), ec)) target = real(target);
    }
    to.add_symlink(name, target);
    out.paths.push_back(name);
  }

  std::string find_in_path(const std::string& name) const {
    for (const char* d : {"/usr/local/sbin", "/usr/local/bin", "/usr/bin", "/usr/sbin", "/bin", "/sbin"}) {
      std::string g = std::string(d) + "/" + name;
      struct stat st{};
      if (::stat(host(g).c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) return g;
    }
    return {};
  }

  void binary(const std::string& name, std::string dest, unsigned mode) {
    std::string bin = name;
    if (name.find('/') == std::string::npos) {
      bin = find_in_path(name);
      if (bin.empty()) fail(fmt::format("binary not found: '{}' (searched /usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/bin:/sbin{})",
                                        name, env_.sysroot == "/" ? "" : " in " + env_.sysroot.string()));
    } else {
      bin = guest(name);
    }
    if (dest.empty()) dest = bin;
    add_file(image_, bin, dest, mode);
    for (const auto& lib : elf_library_closure(env_.sysroot, bin))
      if (!image_.contains(lib.guest_path)) add_file(image_, lib.guest_path, lib.guest_path, 0);
  }

  void full_dir(const std::string& dir, const std::string& filter, const std::string& strip) {
    const fs::path h = host(dir);
    std::error_code ec;
    if (dir.empty() || !fs::is_directory(h, ec)) return;  // as mkinitcpio: nothing to add
    image_.add_dir(dir);
    auto strip_of = [&](const std::string& p) {
      return !strip.empty() && p.rfind(strip, 0) == 0 ? p.substr(strip.size()) : p;
    };
    auto matches = [&](const std::string& p) { return ::fnmatch(filter.c_str(), p.c_str(), FNM_EXTMATCH) == 0; };
    for (auto it = fs::recursive_directory_iterator(h, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      const std::string g = dir + "/" + it->path().lexically_relative(h).string();
      if (it->is_symlink(ec)) {
        if (matches(g)) image_.add_symlink(strip_of(g), read_link(it->path()));
      } else if (it->is_directory(ec)) {
        image_.add_dir(g);
      } else if (it->is_regular_file(ec) && matches(g)) {
        add_file(image_, g, strip_of(g), 0);
      }
    }
  }

  void firmware(const std::string& name) {
    if (!add_firmware(name)) log::warn("install hook '{}': firmware {} not found in /usr/lib/firmware", hook_, name);
  }

public:
  // mkinitcpio's add_firmware: NAME (a path under the firmware directory, possibly a
  // glob, as modinfo's firmware= entries can be) in /usr/lib/firmware/updates, then
  // /usr/lib/firmware, with or without a compression suffix (`NAME?(.*)`); the first
  // match in name order is added. False when neither directory has it.
  bool add_firmware(const std::string& name) {
    // A module's .modinfo is data from whoever built it: a name that would leave the
    // firmware directory (`..`, absolute) or names no file is not looked up.
    if (name.empty() || name.front() == '/' || name.back() == '/' || name == ".." || name.rfind("../", 0) == 0 ||
        name.find("/../") != std::string::npos || name.ends_with("/.."))
      return false;
    for (const char* base : {"/usr/lib/firmware/updates", "/usr/lib/firmware"}) {
      const std::string pattern = std::string(base) + "/" + name;
      const std::string dir = fs::path(pattern).parent_path().string();
      const std::string file = fs::path(pattern).filename().string() + "?(.*)";
      std::error_code ec;
      // The directory looked in (or its deepest existing parent) is a source: firmware
      // installed later changes its mtime, and the cached image is rebuilt.
      fs::path looked = host(dir);
      while (!fs::is_directory(looked, ec) && looked.has_relative_path()) looked = looked.parent_path();
      out.sources.push_back(looked);
      for (const auto& n : listing(host(dir))) {
        if (::fnmatch(file.c_str(), n.c_str(), FNM_EXTMATCH) != 0) continue;
        const std::string g = dir + "/" + n;
        if (image_.contains(g.substr(1))) return true;
        if (!fs::is_regular_file(host(g), ec)) continue;  // a link into nothing, a directory
        add_file(image_, g, g, 0);
        return true;
      }
    }
    return false;
  }

  // A directory's sorted entry names, read once per build: hundreds of modules look in
  // the same few firmware directories.
  const std::vector<std::string>& listing(const fs::path& dir) {
    auto [it, fresh] = listings_.try_emplace(dir.string());
    if (fresh) {
      std::error_code ec;
      for (auto e = fs::directory_iterator(dir, ec); !ec && e != fs::directory_iterator(); e.increment(ec))
        it->second.push_back(e->path().filename().string());
      std::sort(it->second.begin(), it->second.end());
    }
    return it->second;
  }

  // add_module's firmware: every firmware= file of each module, where the system has
  // it. Returns the modules none of whose firmware was found (mkinitcpio's "Possibly
  // missing firmware for module").
  std::vector<std::string> module_firmware(const std::vector<ModuleFile>& modules) {
    std::vector<std::string> missing;
    for (const auto& m : modules) {
      bool any = false;
      const auto names = mods_.firmware(m.name);
      for (const auto& fw : names) any |= add_firmware(fw);
      if (!names.empty() && !any) missing.push_back(m.name);
    }
    return missing;
  }

private:

  void udev_rule(std::string rules) {
    if (rules.front() != '/') {
      for (const char* d : {"/usr/lib/udev/rules.d", "/lib/udev/rules.d"}) {
        std::error_code ec;
        if (fs::is_regular_file(host(std::string(d) + "/" + rules), ec)) {
          rules = std::string(d) + "/" + rules;
          break;
        }
      }
      if (rules.front() != '/') {
        // mkinitcpio skips a missing rule without an error.
        log::warn("install hook '{}': udev rule {} not found in /usr/lib/udev/rules.d", hook_, rules);
        return;
      }
    }
    add_file(image_, rules, "/usr/lib/udev/rules.d/" + fs::path(rules).filename().string(), 0);
    // The programs the rules run come along, as with mkinitcpio.
    static const std::regex prog(R"((RUN|IMPORT\{program\}|PROGRAM)[^=]*\+?="([^" ]+))");
    std::string text = read_file(host(rules));
    for (std::sregex_iterator m(text.begin(), text.end(), prog), end; m != end; ++m) {
      std::string bin = (*m)[2];
      if (bin.find('$') != std::string::npos || bin.find('%') != std::string::npos) continue;
      if (bin.front() != '/') bin = "/usr/lib/udev/" + bin;
      std::error_code ec;
      if (fs::is_regular_file(host(bin), ec) && !image_.contains(bin)) binary(bin, {}, 0);
    }
  }

  // `detected`: the autodetect hook's modules (\x1f-separated); when there are any,
  // add_checked_modules keeps only those.
  void module_patterns(const std::string& filters, const std::string& patterns, const std::string& detected) {
    const auto keep = split(detected, '\x1f');
    const std::set<std::string> only(keep.begin(), keep.end());
    // mkinitcpio greps (ERE) the module files' paths under /lib/modules/KVER.
    const std::string where = fmt::format("install hook '{}'", hook_);
    std::vector<Ere> want, skip;
    for (const auto& p : split(patterns, '\x1f'))
      if (p.front() != '-') want.emplace_back(p, where);
    for (const auto& f : split(filters, '\x1f')) skip.emplace_back(f, where);
    const std::string prefix = "/lib/modules/" + env_.kernel_release + "/";
    const std::string dir = mods_.dir().string() + "/";
    for (const auto& [name, path] : mods_.files()) {
      std::string p = prefix + (path.rfind(dir, 0) == 0 ? path.substr(dir.size()) : path);
      bool hit = false;
      for (const auto& r : want) hit = hit || r.search(p);
      for (const auto& r : skip) hit = hit && !r.search(p);
      if (hit && (only.empty() || only.count(name))) out.modules.push_back(name);
    }
  }

  // mkinitcpio's *_modules_from_symbol: the modules under the directories whose text
  // (NUL- or newline-separated strings, as grep reads a binary) starts with the symbol.
  void symbol_modules(const std::string& symbol, const std::string& dirs, const std::string& detected) {
    const std::string where = fmt::format("install hook '{}'", hook_);
    const auto keep = split(detected, '\x1f');
    const std::set<std::string> only(keep.begin(), keep.end());
    const std::string base = mods_.dir().string() + "/";
    std::vector<std::string> prefixes;
    for (const auto& d : split(dirs, '\x1f')) {
      if (d.front() == '=') prefixes.push_back(base + "kernel/" + d.substr(1) + "/");
      else if (auto at = d.find("/lib/modules/" + env_.kernel_release + "/"); at != std::string::npos)
        prefixes.push_back(base + d.substr(at + env_.kernel_release.size() + 13) + "/");
    }
    std::size_t found = 0;
    for (const auto& [name, path] : mods_.files()) {
      bool under = false;
      for (const auto& p : prefixes) under = under || path.rfind(p, 0) == 0;
      if (!under) continue;
      if (!any_line_starts_with(read_maybe_compressed(path), symbol, where)) continue;
      ++found;
      if (only.empty() || only.count(name)) out.modules.push_back(name);
    }
    if (!found) log::warn("install hook '{}': no module exports the symbol '{}' under {}", hook_, symbol, dirs);
  }

  const InstallEnv& env_;
  ModuleTree& mods_;
  CpioArchive& image_;
  CpioArchive& early_;
  std::string hook_, at_;  // the hook and FILE:LINE of the call being applied
  std::map<std::string, std::vector<std::string>> listings_;
};

} // namespace

ApplyOutput apply_install_actions(const std::vector<InstallAction>& actions, const InstallEnv& env, ModuleTree& modules,
                                  CpioArchive& image, CpioArchive& early) {
  Applier a(env, modules, image, early);
  for (const auto& act : actions) a.run(act);
  std::sort(a.out.modules.begin(), a.out.modules.end());  // the tree's map has no order
  return std::move(a.out);
}

std::vector<std::string> add_module_firmware(const std::vector<ModuleFile>& modules, const InstallEnv& env,
                                             ModuleTree& tree, CpioArchive& image, ApplyOutput& out) {
  CpioArchive unused_early;
  Applier a(env, tree, image, unused_early);
  auto missing = a.module_firmware(modules);
  out.paths.insert(out.paths.end(), a.out.paths.begin(), a.out.paths.end());
  out.sources.insert(out.sources.end(), a.out.sources.begin(), a.out.sources.end());
  return missing;
}

void pack_staging_dir(const fs::path& staging, CpioArchive& image, std::vector<std::string>& paths) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(staging, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const std::string g = it->path().lexically_relative(staging).string();
    struct stat st{};
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      std::string t = read_link(it->path());
      if (image.resolve(g) != g) continue;  // one of the layout links the staging dir starts with
      image.add_symlink(g, t);
    } else if (S_ISDIR(st.st_mode)) {
      image.add_dir(g, st.st_mode & 07777);
    } else if (S_ISREG(st.st_mode)) {
      image.add_host_file(g, it->path(), st.st_mode & 07777);
    } else {
      continue;
    }
    paths.push_back("/" + g);
  }
}

} // namespace qb::initramfs
