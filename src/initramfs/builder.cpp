#include "initramfs/builder.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/file_util.hpp"
#include "core/log.hpp"
#include "core/paths.hpp"
#include "core/sha256.hpp"
#include "initramfs/busybox.hpp"
#include "initramfs/decompress.hpp"
#include "initramfs/elf_deps.hpp"
#include "initramfs/guest_devices.hpp"
#include "initramfs/hooks.hpp"
#include "initramfs/install_apply.hpp"
#include "initramfs/sysroot.hpp"
#include "initramfs/lz4_legacy.hpp"
#include "initramfs/module_closure.hpp"
#include "initramfs/zstd_frames.hpp"

namespace qb::initramfs {

namespace {

// "a, b, c and 5 more": a long list of names kept to one readable line.
std::string join_first(const std::vector<std::string>& names, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < n; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > n) out += fmt::format(" and {} more", names.size() - n);
  return out;
}

// Bump when the image layout changes, so old cache entries are not reused.
constexpr const char* kLayoutVersion = "qb-initrd-11";

// The merged-/usr layout of the base archive (mkinitcpio's): the overlay archive is told
// about these links so that nothing it holds replaces them with a directory.
constexpr std::pair<const char*, const char*> kLayoutLinks[] = {
    {"bin", "usr/bin"}, {"sbin", "usr/bin"}, {"usr/sbin", "bin"}, {"lib", "usr/lib"}, {"lib64", "usr/lib"}};

// quickboot's own hooks: the image cannot boot without them, so a rootfs (untrusted input)
// never replaces them; only a --hooks directory the user passes can.
bool is_builtin_hook(const std::string& name) { return name == "9p_root" || name == "quickboot"; }

// Where hooks are looked for, first match winning: --hooks, the rootfs's mkinitcpio
// directories (paths resolved inside the rootfs), quickboot's own.
std::vector<HookDir> search_dirs(const InitrdSpec& spec, bool with_rootfs) {
  std::vector<HookDir> dirs;
  for (const auto& d : spec.hook_dirs) dirs.push_back(hook_dir_from_user(d));
  if (spec.rootfs && with_rootfs)
    for (const char* d : {"/etc/initcpio", "/usr/lib/initcpio"})
      dirs.push_back({path_in_root(*spec.rootfs, std::string(d) + "/hooks"),
                      path_in_root(*spec.rootfs, std::string(d) + "/install")});
  fs::path builtin = data_dir() / "initrd";
  dirs.push_back({builtin / "hooks", builtin / "install"});
  return dirs;
}

std::vector<ResolvedHook> find_hooks(const InitrdSpec& spec, const std::vector<std::string>& names) {
  const auto all = search_dirs(spec, true), own = search_dirs(spec, false);
  std::vector<ResolvedHook> out;
  for (const auto& n : names) out.push_back(resolve_hooks({n}, is_builtin_hook(n) ? own : all).front());
  return out;
}

std::vector<std::string> hook_list(const InitrdSpec& spec) {
  std::vector<std::string> names;
  auto add = [&](const std::string& n) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  };
  if (spec.default_hooks) add("9p_root");
  for (const auto& h : spec.hooks) add(h);
  if (spec.default_hooks) add("quickboot");
  return names;
}

// Runtime files: quickboot's own, or the rootfs's mkinitcpio runtime (exact mode).
std::vector<std::pair<std::string, fs::path>> runtime_files(const InitrdSpec& spec) {
  fs::path dir = data_dir() / "initrd";
  if (spec.runtime == Runtime::rootfs) {
    if (!spec.rootfs) throw Error("--runtime rootfs needs a rootfs", "pass the rootfs whose mkinitcpio runtime to use");
    fs::path own = path_in_root(*spec.rootfs, "/usr/lib/initcpio");
    for (const char* f : {"init", "init_functions"})
      require_exists(own / f, "mkinitcpio runtime file", "the rootfs has no mkinitcpio; use --runtime quickboot");
    return {{"init", own / "init"}, {"init_functions", own / "init_functions"}, {"qb/run.sh", dir / "qb/run.sh"},
            {"qb/boot-run.sh", dir / "qb/boot-run.sh"}};
  }
  return {{"init", dir / "init"}, {"init_functions", dir / "init_functions"}, {"qb/run.sh", dir / "qb/run.sh"},
          {"qb/boot-run.sh", dir / "qb/boot-run.sh"}};
}

// lz4's legacy frame has no end marker: the kernel decodes it to the end of the image,
// so nothing may follow it. lz4 images are one stream over the concatenated archives.
Compression archive_compression(Compression c) { return c == Compression::lz4 ? Compression::none : c; }

std::string render_config(const std::vector<std::string>& modules, const std::vector<ResolvedHook>& hooks) {
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
    return s;
  };
  std::vector<std::string> names;
  for (const auto& h : hooks)
    if (h.runtime) names.push_back(h.name);
  // Our runtime calls each phase's function only where a hook defines it, so every
  // list can name every hook; cleanup runs in reverse order as mkinitcpio's does.
  std::vector<std::string> reversed(names.rbegin(), names.rend());
  return fmt::format("# written by quickboot\nMODULES=\"{}\"\nEARLYHOOKS=\"{}\"\nHOOKS=\"{}\"\nLATEHOOKS=\"{}\"\n"
                     "CLEANUPHOOKS=\"{}\"\nEMERGENCYHOOKS=\"{}\"\n",
                     join(modules), join(names), join(names), join(names), join(reversed), join(reversed));
}

// Where a cold build spends its time, for `--verbose`.
struct PhaseClock {
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  void mark(std::string_view phase) {
    auto now = std::chrono::steady_clock::now();
    log::debug("initrd build: {} in {:.1f} ms", phase, std::chrono::duration<double, std::milli>(now - last).count());
    last = now;
  }
};

// Zero padding to a 4-byte boundary, as CpioArchive::write pads its zstd output.
std::string pad4(std::string s) {
  s.resize((s.size() + 3) & ~std::size_t{3}, '\0');
  return s;
}

} // namespace

std::string read_overlay_archive(const fs::path& path) {
  return zstd_decompress(read_file(path), path.string());
}

InitrdResult build_initrd(const InitrdSpec& spec, const fs::path& cache_dir) {
  const auto names = hook_list(spec);
  const auto hooks = find_hooks(spec, names);
  const auto runtime = runtime_files(spec);
  for (const auto& [host, guest] : spec.adds) require_exists(host, "--add source", "check the HOST part of HOST:GUEST");
  const fs::path bb_path = busybox_path(spec.kernel.arch);
  require_exists(bb_path, fmt::format("static busybox for {}:", spec.kernel.arch),
                 busybox_hint(spec.kernel.arch));

  // The key covers every input; small files by content, large ones by identity.
  Sha256 key;
  key.update(fmt::format("{}\n{}\n{}\n{}\n{}\n", kLayoutVersion, spec.kernel.release, spec.kernel.arch,
                         spec.kernel.modules_dir.string(), to_string(spec.compression)));
  key.update(file_identity(bb_path));
  for (const auto& [name, path] : runtime) key.update(name + "\n" + read_file(path));
  for (const auto& h : hooks) {
    key.update("hook " + h.name + "\n");
    if (h.runtime) key.update(read_file(*h.runtime));
    key.update("\n--\n");
    if (h.install) key.update(read_file(*h.install));
  }
  for (const auto& m : spec.modules) key.update("module " + m + "\n");
  for (const auto& [host, guest] : spec.adds) key.update("add " + guest + "\n" + read_file(host));
  if (spec.rootfs) key.update("rootfs " + spec.rootfs->string());
  if (spec.autodetect_host) key.update("autodetect host\n");
  const std::string hex = to_hex(key.finish());

  fs::create_directories(cache_dir);
  const fs::path image = cache_dir / (hex.substr(0, 32) + ".img");
  const fs::path meta_path = cache_dir / (hex.substr(0, 32) + ".json");
  InitrdResult result;
  result.image = image;
  result.key = hex;
  result.overlay_archive = cache_dir / (hex.substr(0, 32) + ".overlay.cpio.zst");
  std::error_code ec;
  if (fs::exists(image, ec) && fs::exists(meta_path, ec) && fs::exists(result.overlay_archive, ec)) {
    auto meta = nlohmann::json::parse(read_file(meta_path), nullptr, false);
    // Files the install hooks took from the built system count too: a changed one is a miss.
    auto sources_unchanged = [&] {
      for (const auto& s : meta.value("sources", nlohmann::json::array())) {
        try {
          if (file_identity(s.at(0).get<std::string>()) != s.at(1).get<std::string>()) return false;
        } catch (const std::exception&) {
          return false;
        }
      }
      return true;
    };
    // The cache's files are written without fsync: after a power loss one may be empty
    // or short, and its recorded size says so.
    auto sizes_match = [&] {
      try {
        const auto& sz = meta.at("sizes");
        return fs::file_size(image) == sz.at("image").get<std::uintmax_t>() &&
               fs::file_size(meta.at("base").get<std::string>()) == sz.at("base").get<std::uintmax_t>() &&
               fs::file_size(result.overlay_archive) == sz.at("overlay").get<std::uintmax_t>();
      } catch (const std::exception&) {
        return false;
      }
    };
    if (!meta.is_discarded() && sizes_match() && sources_unchanged()) {
      result.cached = true;
      result.base_image = meta.value("base", "");
      result.module_settings = meta.value("module_settings", false);
      result.bytes = fs::file_size(image);
      result.modules = meta.value("modules", std::vector<std::string>{});
      result.hooks = meta.value("hooks", std::vector<std::string>{});
      return result;
    }
  }

  // Cold path from here on: validate busybox and run the install hooks.
  PhaseClock clock;
  Busybox bb = find_busybox(spec.kernel.arch);
  const fs::path sysroot = spec.rootfs ? *spec.rootfs : fs::path("/");
  // The hooks' staging directories start with the image's layout, as mkinitcpio's do.
  struct Staging {
    fs::path dir;
    ~Staging() { remove_all_quiet(dir); }
  } staging{make_temp_dir(cache_dir, ".build")};
  InstallEnv env{sysroot,           staging.dir / "root",         staging.dir / "early", spec.kernel.release,
                 spec.kernel.modules_dir, staging.dir / "moduleroot", spec.hook_timeout,    std::nullopt};
  fs::create_directories(env.module_root / "lib/modules");
  fs::create_symlink(fs::absolute(spec.kernel.modules_dir), env.module_root / "lib/modules" / spec.kernel.release);
  for (const char* d : {"usr/bin", "usr/lib", "etc", "run", "tmp", "dev", "proc", "sys", "new_root"})
    fs::create_directories(env.buildroot / d);
  for (const auto& [path, target] : kLayoutLinks) fs::create_symlink(target, env.buildroot / path);
  fs::create_directories(env.earlyroot);
  // Modules: what the hooks ask for plus --module, closed over their dependencies.
  ModuleTree tree(spec.kernel.modules_dir, spec.kernel.release);
  // Keyed by the tree's path and identity: a store entry's modules never change.
  Sha256 alias_key;
  alias_key.update(spec.kernel.modules_dir.string() + "\n" + file_identity(spec.kernel.modules_dir / "kernel"));
  tree.set_alias_cache(cache_dir / ("aliases-" + to_hex(alias_key.finish()).substr(0, 24) + ".txt"));
  if (!spec.autodetect_host && std::any_of(hooks.begin(), hooks.end(), [](const ResolvedHook& h) {
        return h.name == "autodetect" && h.install;
      }))
    env.guest_autodetect = guest_autodetect_modules(tree);
  InstallRequests req = run_install_hooks(hooks, env, bb.path);
  clock.mark("hooks ran");
  CpioArchive o, early;
  for (const auto& [path, target] : kLayoutLinks) o.assume_symlink(path, target);
  ApplyOutput applied = apply_install_actions(req.actions, env, tree, o, early);
  clock.mark("actions applied");
  pack_staging_dir(env.buildroot, o, applied.paths);
  pack_staging_dir(env.earlyroot, early, applied.paths);
  // mkinitcpio's base hook copies the tree's own /init and /init_functions: the chosen
  // runtime wins over them (quickboot's hooks call functions only its runtime has).
  for (const auto& [name, path] : runtime)
    for (const auto& p : applied.paths)
      if (p == "/" + name) {
        o.add_host_file(name, path, name == "init" ? 0755 : 0644);
        break;
      }
  // Named modules (add_module, --module) are loaded at boot by the runtime; modules that
  // only matched a pattern (add_all_modules, add_checked_modules: hundreds of drivers)
  // are in the image for whoever loads them, as with mkinitcpio, where udev does.
  std::vector<std::string> wanted = req.modules;
  wanted.insert(wanted.end(), spec.modules.begin(), spec.modules.end());
  std::vector<std::string> load_order;
  for (const auto& m : tree.closure(wanted)) load_order.push_back(m.name);
  wanted.insert(wanted.end(), applied.modules.begin(), applied.modules.end());
  auto mods = tree.closure(wanted);
  // As mkinitcpio's add_module: each module's firmware, where the system has it.
  auto no_firmware = add_module_firmware(mods, env, tree, o, applied);
  if (!no_firmware.empty())
    log::warn("possibly missing firmware for {} module{} (not in {}/usr/lib/firmware): {}", no_firmware.size(),
              no_firmware.size() == 1 ? "" : "s", sysroot == "/" ? "" : sysroot.string(), join_first(no_firmware, 8));

  clock.mark("modules closed");
  // ---- base archive: busybox, runtime, modules. Cached by its own key.
  Sha256 base_key;
  base_key.update(fmt::format("{}\n{}\n{}\n{}\n", kLayoutVersion, spec.kernel.release, to_string(spec.compression),
                              file_identity(bb.path)));
  for (const auto& [name, path] : runtime) base_key.update(name + "\n" + read_file(path));
  for (const auto& m : mods) base_key.update(file_identity(m.path));
  for (const auto& m : load_order) base_key.update("load " + m + "\n");
  const fs::path base_path = cache_dir / ("base-" + to_hex(base_key.finish()).substr(0, 32) + ".cpio");
  // The base archive is built (read, compressed, cached) on its own thread while this
  // one makes the overlay: on a cache miss both are mostly compression.
  std::future<std::string> base_future;
  std::optional<std::string> reused_base;
  if (fs::exists(base_path, ec)) {
    // Written without fsync: one that a power loss cut short is rebuilt, not reused.
    std::string cached = read_file(base_path);
    if (archive_complete(cached, archive_compression(spec.compression))) reused_base = std::move(cached);
  }
  if (reused_base) {
    base_future = std::async(std::launch::deferred, [&] { return std::move(*reused_base); });
  } else {
    base_future = std::async(std::launch::async, [&] {
      CpioArchive a;
      for (const char* d : {"new_root", "proc", "sys", "dev", "run", "tmp", "usr/bin", "usr/lib", "etc", "qb"})
        a.add_dir(d);
      for (const auto& [path, target] : kLayoutLinks) a.add_symlink(path, target);
      a.add_char_device("dev/console", 5, 1, 0600);
      a.add_char_device("dev/null", 1, 3, 0666);
      a.add_host_file("usr/bin/busybox", bb.path, 0755);
      for (const auto& applet : bb.applets) a.add_symlink("usr/bin/" + applet, "busybox");
      for (const auto& [name, path] : runtime) a.add_host_file(name, path, name == "init" ? 0755 : 0644);
      const std::string moddir = "usr/lib/modules/" + spec.kernel.release + "/";
      for (const auto& m : mods) a.add_file(moddir + m.rel_path, read_maybe_compressed(m.path), 0644);
      a.add_file(moddir + "modules.dep", render_modules_dep(mods));
      // The modules the runtime loads, for a snapshot boot to load before the snapshot point.
      std::string preload;
      for (const auto& m : load_order) preload += (preload.empty() ? "" : " ") + m;
      a.add_file("qb/preload", preload + "\n");
      std::error_code exists_ec;
      for (const char* f : {"modules.builtin", "modules.builtin.modinfo", "modules.order"})
        if (fs::exists(spec.kernel.modules_dir / f, exists_ec))
          a.add_host_file(moddir + f, spec.kernel.modules_dir / f, 0644);
      std::string packed = a.write(archive_compression(spec.compression));
      write_file_atomic(base_path, packed, 0644, false);
      return packed;
    });
  }

  // ---- overlay archive: /config, hooks, files the install hooks and --add asked for.
  std::set<std::string> runscripts(req.runscripts.begin(), req.runscripts.end());
  std::vector<ResolvedHook> runtime_hooks;
  for (const auto& h : hooks) {
    if (!h.runtime || !runscripts.count(h.name)) continue;
    // Executable whatever the source mode: the runtime only runs executable hooks.
    o.add_host_file("hooks/" + h.name, *h.runtime, 0755);
    runtime_hooks.push_back(h);
  }
  o.add_file("config", render_config(load_order, runtime_hooks), 0644);
  for (const auto& [host, guest] : spec.adds) {
    struct stat st{};
    ::stat(host.c_str(), &st);
    o.add_host_file(guest, host, st.st_mode & 07777);
  }
  // Files that change how modules load, put where modprobe or the kernel look for them.
  auto module_setting = [](std::string p) {
    while (!p.empty() && p.front() == '/') p.erase(0, 1);
    for (const char* d : {"etc/modprobe.d", "usr/lib/modprobe.d", "lib/modprobe.d", "run/modprobe.d", "usr/lib/firmware",
                          "lib/firmware"})
      if (p.rfind(d, 0) == 0) return true;
    return false;
  };
  for (const auto& p : applied.paths) result.module_settings |= module_setting(p);
  for (const auto& [host, guest] : spec.adds) result.module_settings |= module_setting(guest);
  // Serialised once. The image gets it compressed as asked; snapshot boots get it from
  // a zstd copy in the cache (a third of the bytes to write; the same bytes when the
  // image is zstd too).
  const std::string overlay_raw = o.write(Compression::none);
  const Compression overlay_compression = archive_compression(spec.compression);
  std::string overlay = overlay_compression == Compression::none ? overlay_raw
                        : overlay_compression == Compression::zstd ? pad4(zstd_compress(overlay_raw, 1))
                                                                    : o.write(overlay_compression);
  const std::string overlay_zst = overlay_compression == Compression::zstd ? overlay : zstd_compress(overlay_raw, 1);
  // Files only root may read (an --add of /etc/shadow, say) keep the image private.
  const unsigned image_mode = o.private_content() || early.private_content() ? 0600 : 0644;
  write_file_atomic(result.overlay_archive, overlay_zst, image_mode, false);
  std::string base = base_future.get();
  const std::size_t base_bytes = base.size();
  clock.mark("base and overlay archives");
  result.base_image = base_path;
  if (spec.compression == Compression::lz4) {
    base = lz4_legacy_compress(base + overlay);
    overlay.clear();
  }

  // add_file_early's files (CPU microcode): an uncompressed archive first, where the
  // kernel looks for them before it unpacks the rest.
  const std::string early_cpio = early.size() ? early.write(Compression::none) : std::string();
  {
    AtomicFile out(image, image_mode);
    out.write(early_cpio);
    out.write(base);
    out.write(overlay);
    out.commit(false);
  }
  clock.mark("image written");
  result.bytes = early_cpio.size() + base.size() + overlay.size();
  result.modules = load_order;
  for (const auto& h : runtime_hooks) result.hooks.push_back(h.name);
  nlohmann::json sources = nlohmann::json::array();
  std::set<fs::path> seen_sources;
  for (const auto& s : applied.sources)
    if (seen_sources.insert(s).second) sources.push_back({s.string(), file_identity(s)});
  nlohmann::json meta = {{"modules", result.modules},  {"hooks", result.hooks},
                         {"base", base_path.string()}, {"module_settings", result.module_settings},
                         {"sources", sources},
                         {"sizes", {{"image", result.bytes}, {"base", base_bytes}, {"overlay", overlay_zst.size()}}}};
  write_file_atomic(meta_path, meta.dump(), 0644, false);
  return result;
}

} // namespace qb::initramfs
