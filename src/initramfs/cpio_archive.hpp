#pragma once
// A deterministic cpio "newc" archive as the kernel's initramfs unpacker reads it.
// Entries are collected first and written sorted (parents before children, since the
// kernel never creates missing parents), with owner 0:0, one mtime, and inode numbers
// assigned in order with nlink 1, because equal (dev, ino) pairs would be merged into
// hard links by the kernel and one content lost.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace qb::initramfs {

enum class Compression { none, zstd, gzip, lz4 };

Compression parse_compression(std::string_view name);  // throws Error for unknown names
std::string_view to_string(Compression c);

class CpioArchive {
public:
  // Parent directories are added implicitly (mode 0755). Paths are relative to the
  // archive root, without a leading slash. Adding a path twice replaces the entry.
  // Every path is first taken through the symlinks this archive knows (its own and the
  // assumed ones below), so a file meant for lib/x lands at usr/lib/x when lib is a
  // link to usr/lib. A path with a `..` component throws Error.
  void add_dir(std::string path, unsigned mode = 0755);
  void add_file(std::string path, std::string data, unsigned mode = 0644);
  // Reads the host file now (so a later change on the host cannot tear the image).
  void add_host_file(std::string path, const std::filesystem::path& host, unsigned mode);
  void add_symlink(std::string path, std::string target);
  void add_char_device(std::string path, unsigned major, unsigned minor, unsigned mode);

  // A symlink an earlier archive of the same image creates (the base's /lib -> usr/lib).
  // It is not written. The kernel's unpacker replaces a symlink with a directory entry
  // of the same name (and then /lib/modules is gone), so no path of this archive may
  // have a directory entry there: paths through it are resolved instead.
  void assume_symlink(std::string path, std::string target);

  // Where `path` ends up: every component but the last resolved through the known
  // symlinks (relative targets from the link's directory, absolute ones from the archive
  // root, `..` never above the root); the last one too when `follow_last`.
  std::string resolve(const std::string& path, bool follow_last = false) const;

  bool contains(const std::string& path) const { return entries_.count(resolve(path)) != 0; }
  // True once a file that others may not read went in (its mode, or its host file's,
  // lacks o+r): the archive is then written 0600, not 0644, like what it holds.
  bool private_content() const { return private_; }
  std::size_t size() const { return entries_.size(); }

  // Writes the archive. mtime comes from SOURCE_DATE_EPOCH when set, else 0.
  // The result is padded to a 4-byte boundary so another archive can follow it.
  std::string write(Compression compression) const;

private:
  struct Entry {
    enum class Kind { dir, file, symlink, chardev } kind;
    unsigned mode;
    std::string data;  // file content or symlink target
    unsigned major = 0, minor = 0;
  };
  static std::string normalise(std::string path);
  void add_parents(const std::string& path);
  const std::string* link_target(const std::string& path) const;
  std::map<std::string, Entry> entries_;  // std::map: sorted, so parents come first
  std::map<std::string, std::string> assumed_links_;
  bool private_ = false;
};

// Whether `archive` (as CpioArchive::write made it with `compression`) is whole: an
// uncompressed one ends with its trailer, a zstd one's frames are all there, a gzip one
// has its header. A cheap check for cache files written without fsync.
bool archive_complete(std::string_view archive, Compression compression);

// One uncompressed newc archive holding the entries of `first` then `second` (later
// entries win on extraction). Readers such as busybox cpio stop at the first trailer,
// so archives meant for them cannot simply be concatenated. Throws Error when `first`
// does not end with a newc trailer.
std::string join_newc(std::string_view first, std::string_view second);

} // namespace qb::initramfs
