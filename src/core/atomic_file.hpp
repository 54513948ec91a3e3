#pragma once
// Writes a file beside its target and renames it into place on commit(). If commit()
// is never called (error, exception, signal), the temp file is removed and the target
// keeps its previous content: no half-written outputs.
#include <filesystem>
#include <string_view>

#include "core/fd.hpp"

namespace qb {

class AtomicFile {
public:
  // Throws Error when the directory of `target` is not writable.
  explicit AtomicFile(std::filesystem::path target, unsigned mode = 0644);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  int fd() const { return fd_.get(); }
  const std::filesystem::path& temp_path() const { return temp_; }
  void write(std::string_view data);
  void write(const void* data, std::size_t size);
  // fsync (when `durable`) and rename over the target. Throws Error.
  void commit(bool durable = true);

private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  Fd fd_;
  bool committed_ = false;
};

} // namespace qb
