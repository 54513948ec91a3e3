#include "kernel/module_index.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "core/paths.hpp"
#include "core/process.hpp"

namespace qb::kernel {

namespace {

// depmod lives in sbin, which a user's PATH often lacks.
fs::path find_depmod() {
  if (auto p = find_program("depmod"); !p.empty()) return p;
  for (const char* p : {"/usr/sbin/depmod", "/sbin/depmod"})
    if (::access(p, X_OK) == 0) return p;
  return {};
}

void install(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) throw Error::from_errno("cannot move a module index into", to, "check that the kernel store is writable", ec.value());
}

} // namespace

bool has_module_indexes(const fs::path& modules_dir) {
  std::error_code ec;
  return fs::is_regular_file(modules_dir / "modules.dep.bin", ec);
}

void write_module_indexes(const fs::path& modules_dir, const std::string& release) {
  const fs::path depmod = find_depmod();
  if (depmod.empty())
    throw Error("depmod is not installed: quickboot needs it to index the kernel's modules for the guest's modprobe",
                "apt-get install kmod");
  // depmod -b BASE reads BASE/lib/modules/RELEASE and writes its indexes there. That
  // directory is a scratch one whose entries are symlinks into the real tree, so the
  // indexes can be moved in as whole files once depmod succeeded.
  fs::path scratch = make_temp_dir(modules_dir.parent_path(), ".depmod");
  struct Cleanup { fs::path d; ~Cleanup() { remove_all_quiet(d); } } cleanup{scratch};
  const fs::path tree = scratch / "lib/modules" / release;
  fs::create_directories(tree);
  fs::create_directories(scratch / "depmod.d");  // an empty config: not the host's
  std::error_code ec;
  fs::directory_iterator inputs(modules_dir, ec);
  if (ec) throw Error::from_errno("cannot list", modules_dir, {}, ec.value());
  for (const auto& e : inputs) {
    const std::string name = e.path().filename().string();
    // The inputs: module directories and the kernel's own lists (builtin, order).
    if (name.starts_with(".")) continue;
    if (e.is_directory(ec) || name == "modules.builtin" || name == "modules.builtin.modinfo" || name == "modules.order")
      fs::create_symlink(fs::absolute(e.path()), tree / name);
  }
  auto r = run_capture({depmod.string(), "-b", scratch.string(), "-C", (scratch / "depmod.d").string(), release});
  if (r.exit_code != 0)
    throw Error(fmt::format("depmod failed on the modules of {} in {} (exit {}): {}", release, modules_dir.string(),
                            r.exit_code, r.err.empty() ? "no message" : r.err),
                "check the modules tree, or add the kernel again with its modules package");
  bool dep_bin = false;
  for (const auto& e : fs::directory_iterator(tree)) {
    const std::string name = e.path().filename().string();
    if (e.is_symlink(ec) || !e.is_regular_file(ec)) continue;
    if (name == "modules.dep.bin") {
      dep_bin = true;
      continue;
    }
    install(e.path(), modules_dir / name);
  }
  if (!dep_bin) throw Error(fmt::format("depmod wrote no modules.dep.bin for {} in {}", release, modules_dir.string()));
  install(tree / "modules.dep.bin", modules_dir / "modules.dep.bin");
}

} // namespace qb::kernel
