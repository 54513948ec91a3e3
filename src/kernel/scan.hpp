#pragma once
// One pass over a kernel source that keeps what the store needs: candidate kernel images
// (in memory), the lib/modules/<release>/ trees (written under a work directory as they
// stream by) and boot/config-<release>. Everything else is skipped.
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "kernel/source.hpp"

namespace qb::kernel {

namespace fs = std::filesystem;

struct ImageCandidate {
  std::string where;  // path inside the source, e.g. boot/vmlinuz-6.1.0-28-amd64
  std::string data;
};

struct ModuleTree {
  fs::path dir;            // written tree (or, for --modules none, an empty directory)
  std::string where;       // path inside the source
  std::size_t count = 0;   // kernel modules (.ko, .ko.xz, .ko.zst, .ko.gz)
};

struct ScanOptions {
  bool images = true;
  bool modules = true;
  fs::path work;  // module trees go to work/<release>/
  // Called as soon as an image is read, so its vmlinux can be decompressed while the
  // stream goes on. Returning true stops the scan there. Must not throw.
  std::function<bool(const ImageCandidate&)> on_image;
};

struct ScanResult {
  std::vector<ImageCandidate> images;
  std::map<std::string, ModuleTree> trees;     // by release (directory name)
  std::map<std::string, std::string> configs;  // by release: file content
  std::vector<std::string> squashfs_images;    // root images seen (ISOs): where modules may hide
};

// Streams an archive source (deb, package, iso). Throws Error on corrupt input.
ScanResult scan_archive(const fs::path& path, SourceKind kind, const ScanOptions& opts);

// Walks a directory: a rootfs (boot/, lib/modules/, usr/lib/modules/), a lib/modules
// directory, or one modules tree (lib/modules/<release> itself). Throws Error.
ScanResult scan_directory(const fs::path& dir, const ScanOptions& opts);

// Splits "lib/modules/R/rest" or "usr/lib/modules/R/rest" into {R, rest}; false otherwise.
bool split_modules_path(std::string_view path, std::string& release, std::string& rest);

} // namespace qb::kernel
