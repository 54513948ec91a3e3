#include "initramfs/guest_modules.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/file_util.hpp"
#include "initramfs/module_closure.hpp"

namespace qb::initramfs {

namespace fs = std::filesystem;

fs::path guest_modules_dir(const fs::path& modules_dir, const std::string& release, const fs::path& out) {
  std::error_code ec;
  if (fs::exists(out / "modules.dep", ec)) return out;
  fs::create_directories(out.parent_path());
  fs::path tmp = make_temp_dir(out.parent_path(), out.filename().string() + ".tmp");
  try {
    for (auto it = fs::recursive_directory_iterator(modules_dir); it != fs::recursive_directory_iterator(); ++it) {
      fs::path rel = fs::relative(it->path(), modules_dir);
      if (it->is_directory()) fs::create_directories(tmp / rel);
      else if (it->is_regular_file()) {
        fs::create_hard_link(it->path(), tmp / rel, ec);
        if (ec) fs::copy_file(it->path(), tmp / rel);  // another filesystem
      }
    }
    ModuleTree tree(modules_dir, release);
    write_file_atomic(tmp / "modules.dep", render_modules_dep(tree.all(), true));
    fs::rename(tmp, out, ec);
    if (ec && !fs::exists(out / "modules.dep")) throw Error::from_errno("cannot rename into", out, {}, ec.value());
  } catch (...) {
    remove_all_quiet(tmp);
    throw;
  }
  remove_all_quiet(tmp);
  return out;
}

} // namespace qb::initramfs
