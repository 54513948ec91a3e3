#pragma once
// Writes files under one root directory as fast as a stream delivers them: parent
// directories are created once and remembered, files are written without fsync (the
// store makes the whole entry visible with one rename at the end).
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_set>

#include "core/fd.hpp"

namespace qb::kernel {

namespace fs = std::filesystem;

// True for kernel/**.ko and its compressed forms (.ko.xz, .ko.zst, .ko.gz).
bool is_module_file(std::string_view path);

// True when `rel` is a relative path with no "..", "." or empty component, so writing
// it under a root cannot escape that root.
bool is_safe_relative(std::string_view rel);

class TreeWriter {
public:
  explicit TreeWriter(fs::path root);
  const fs::path& root() const { return root_; }

  // Opens root/rel for writing (mode & 0777), creating parents. Throws Error.
  Fd create_file(std::string_view rel, unsigned mode);
  void make_dir(std::string_view rel);
  // Symlinks only when the target stays inside the tree (relative, no ".."); else skipped.
  void make_symlink(std::string_view rel, std::string_view target);
  // A hard link to a file already written under this root. Throws Error.
  void make_hardlink(std::string_view rel, std::string_view existing_rel);
  // Copies the regular file `from` to root/rel (copy_file_range). Throws Error.
  void copy_file(const fs::path& from, std::string_view rel, unsigned mode);

  std::size_t module_count() const { return modules_; }
  void count_if_module(std::string_view rel) { if (is_module_file(rel)) ++modules_; }

private:
  void ensure_parent(std::string_view rel);
  fs::path root_;
  std::unordered_set<std::string> dirs_;
  std::size_t modules_ = 0;
};

// Writes `size` bytes at `offset` (pwrite, EINTR-safe). Throws Error naming `path`.
void write_at(int fd, const char* data, std::size_t size, std::int64_t offset, const fs::path& path);

} // namespace qb::kernel
