#pragma once
// One pass over a kernel source that keeps what the store needs: candidate kernel images
// (in memory, only those that can be chosen), the lib/modules/<release>/ trees and
// boot/config-<release> (written under a work directory as they stream by). Everything
// else is skipped. Memory stays bounded whatever the archive holds: a small package of
// many large, highly compressible members keeps at most one image per release.
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kernel/source.hpp"

namespace qb::kernel {

namespace fs = std::filesystem;

struct ImageCandidate {
  std::string where;  // path inside the source, e.g. boot/vmlinuz-6.1.0-28-amd64
  std::string data;   // empty when not kept (see `kept`)
  // False for an image that cannot be the one chosen: without ScanOptions::release,
  // any image after the first (a source with two kernels is an error, and one kernel
  // twice is the first); with it, images of other releases and a second one of that
  // release. Only its name and release are kept, for the "several kernels" message.
  bool kept = true;
  std::string release;      // from its boot header; empty when it has none
  bool bad_header = false;  // the boot header does not parse (reported when it is the only image)
};

struct ModuleTree {
  fs::path dir;            // written tree (or, for --modules none, an empty directory)
  std::string where;       // path inside the source
  std::size_t count = 0;   // kernel modules (.ko, .ko.xz, .ko.zst, .ko.gz)
};

struct ScanOptions {
  bool images = true;
  bool modules = true;
  fs::path work;  // module trees go to work/<release>/, configs to work.configs/
  // When set, images whose boot header names another release are not kept.
  std::optional<std::string> release;
  // Called as soon as an image is read, so its vmlinux can be decompressed while the
  // stream goes on. Returning true stops the scan there. Must not throw.
  std::function<bool(const ImageCandidate&)> on_image;
};

struct ScanResult {
  std::vector<ImageCandidate> images;
  std::map<std::string, ModuleTree> trees;     // by release (directory name)
  std::map<std::string, fs::path> configs;     // by release: the file (written under work, or in the tree)
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
