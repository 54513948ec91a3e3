#pragma once
// The kernel store: one directory per kernel under $QUICKBOOT_HOME/kernels/<id>/, where
// <id> = "<release>-<first 12 hex of the bzImage's sha256>". Each entry holds:
//   bzImage            the boot image as given
//   vmlinux            the decompressed ELF, only when it carries the PVH entry note
//   config             the kernel config, when the source had one
//   modules/           the full lib/modules/<release>/ tree (kernel/**.ko[.xz|.zst|.gz],
//                      modules.builtin, modules.builtin.modinfo, modules.order, ...),
//                      plus depmod's indexes (kernel/module_index.hpp)
//   meta.json          {id, release, arch, bzimage, vmlinux, config, modules, module_count,
//                       source, added}
// $QUICKBOOT_HOME/kernels/default holds the id of the default entry.
// Entries are built in a temp directory and renamed into place: never half-made.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace qb::kernel {

namespace fs = std::filesystem;

struct KernelEntry {
  std::string id;
  std::string release;        // e.g. 6.1.0-28-amd64
  std::string arch;           // x86_64 or i686
  fs::path dir;
  fs::path bzimage;
  std::optional<fs::path> vmlinux;
  std::optional<fs::path> config;
  fs::path modules_dir;       // == dir / "modules"
  std::size_t module_count = 0;
  std::string source;         // what it was added from
  bool is_default = false;
  std::string name;           // optional alias given with `kernel add --name`
  std::string added;          // ISO 8601 UTC time of the add
};

class KernelStore {
public:
  explicit KernelStore(fs::path home);  // home = qb::quickboot_home()
  const fs::path& root() const { return root_; }  // home / "kernels"

  std::vector<KernelEntry> list() const;
  // Exact id, a unique id prefix, or a release. Throws Error listing what exists.
  KernelEntry find(const std::string& id) const;
  // `id` when given, else the default, else the only entry. Throws Error with the
  // `quickboot kernel add` hint when the store is empty.
  KernelEntry resolve(const std::optional<std::string>& id) const;
  void set_default(const std::string& id);

  // The default entry's id, if one is set and still exists.
  std::optional<std::string> default_id() const;
  // The entry with exactly this id, if present.
  std::optional<KernelEntry> get(const std::string& id) const;
  // Removes the entry (atomically: renamed away first, then deleted); clears the
  // default when it was the default. Throws Error.
  void remove(const std::string& id);
  // Creates root() if needed. Throws Error with a QUICKBOOT_HOME hint when it can't.
  void ensure_root() const;
  // Deletes temp directories left by adds that were killed (their pid is gone).
  void sweep_stale() const noexcept;

private:
  fs::path root_;
};

// Reads dir/meta.json into an entry with absolute paths. Throws Error naming the file.
KernelEntry load_entry(const fs::path& dir);
// Writes dir/meta.json for `e` (paths stored relative to the entry). Throws Error.
void write_meta(const KernelEntry& e, const fs::path& dir);

} // namespace qb::kernel
