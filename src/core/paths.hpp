#pragma once
// Where quickboot keeps and finds things.
#include <filesystem>

namespace qb {

// The store root: $QUICKBOOT_HOME, else $XDG_CACHE_HOME/quickboot, else ~/.cache/quickboot.
std::filesystem::path quickboot_home();

// Downloads shared by every store (kernel packages, the i386 busybox), as cached by
// kernels/*.sh: $QUICKBOOT_DOWNLOADS, else $XDG_CACHE_HOME/quickboot/downloads, else
// ~/.cache/quickboot/downloads. Independent of $QUICKBOOT_HOME so tests share them.
std::filesystem::path downloads_dir();

// The directory holding initrd/, overlays/ and kernels/: $QUICKBOOT_DATA_DIR, else
// <exe>/../share/quickboot when installed, else the source tree the binary was built from.
std::filesystem::path data_dir();

// Finds an executable on PATH; empty when absent.
std::filesystem::path find_program(const std::string& name);

} // namespace qb
