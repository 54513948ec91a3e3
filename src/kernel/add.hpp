#pragma once
// `quickboot kernel add`: takes a kernel, its modules and config out of a source and
// puts them in the store as one new entry.
#include <filesystem>
#include <optional>
#include <string>

#include "kernel/store.hpp"

namespace qb::kernel {

struct AddOptions {
  fs::path source;
  std::optional<std::string> modules;  // a directory or package; "none": no modules
  std::optional<std::string> name;     // alias stored in the entry
  std::optional<std::string> release;  // picks one kernel when the source holds several
  bool make_default = false;
};

struct AddResult {
  KernelEntry entry;
  bool already_present = false;  // the same kernel (release and bzImage hash) was there
  std::string source_kind;       // deb, package, iso, directory, bzimage
};

// Builds the entry in a temp directory under store.root() and renames it into place, so
// a failed or interrupted add leaves nothing behind. The first kernel becomes the
// default. Throws Error naming the source, the problem and the fix.
AddResult add_kernel(KernelStore& store, const AddOptions& opts);

} // namespace qb::kernel
