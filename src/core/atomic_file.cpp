#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "core/error.hpp"
#include "core/signals.hpp"

namespace qb {

AtomicFile::AtomicFile(std::filesystem::path target, unsigned mode) : target_(std::move(target)) {
  std::string tmpl = target_.string() + ".tmp.XXXXXX";
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0)
    throw Error::from_errno("cannot create a file in", target_.parent_path().empty() ? "." : target_.parent_path(),
                            "check that the output directory exists and is writable");
  fd_.reset(fd);
  temp_ = tmpl;
  // A SIGINT/SIGTERM/SIGHUP before the commit removes the half-written file too.
  register_scratch(temp_);
  ::fchmod(fd, mode);
}

AtomicFile::~AtomicFile() {
  if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
  if (!temp_.empty()) forget_scratch(temp_);
}

void AtomicFile::write(std::string_view data) { write(data.data(), data.size()); }

void AtomicFile::write(const void* data, std::size_t size) {
  auto p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd_.get(), p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error::from_errno("cannot write", temp_);
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void AtomicFile::commit(bool durable) {
  if (durable && ::fsync(fd_.get()) != 0) throw Error::from_errno("cannot sync", temp_);
  fd_.reset();
  if (::rename(temp_.c_str(), target_.c_str()) != 0) throw Error::from_errno("cannot rename into", target_);
  committed_ = true;
}

} // namespace qb
