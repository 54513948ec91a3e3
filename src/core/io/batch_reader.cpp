#include "core/io/batch_reader.hpp"

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/error.hpp"
#include "core/log.hpp"

namespace qb::io {

const char* backend_name(Backend b) {
  switch (b) {
  case Backend::uring: return "io_uring";
  case Backend::pread: return "pread";
  default: return "automatic";
  }
}

static bool uring_disabled_by_env() {
  const char* v = std::getenv("QUICKBOOT_NO_IO_URING");
  return v && *v && std::strcmp(v, "0") != 0;
}

Backend resolve_backend(Backend wanted) {
  if (wanted != Backend::automatic) return wanted;
  if (uring_disabled_by_env()) return Backend::pread;
  static std::once_flag once;
  static Backend probed = Backend::uring;
  std::call_once(once, [] {
    int err = 0;
    ReaderOptions o;
    o.depth = 1;
    o.chunk_size = 4096;
    if (!make_uring_reader(o, err)) {
      probed = Backend::pread;
      log::notice("io_uring unavailable ({}); reading files with pread", std::strerror(err));
    }
  });
  return probed;
}

BatchReader::BatchReader(ReaderOptions opts) : backend_(resolve_backend(opts.backend)) {
  if (backend_ == Backend::uring) {
    int err = 0;
    impl_ = make_uring_reader(opts, err);
    if (!impl_) {
      if (opts.backend == Backend::uring)
        throw Error(std::string("cannot set up io_uring: ") + std::strerror(err),
                    "check sysctl kernel.io_uring_disabled, or use the pread fallback");
      log::notice("io_uring unavailable ({}); reading files with pread", std::strerror(err));
      backend_ = Backend::pread;
    }
  }
  if (!impl_) impl_ = make_pread_reader(opts);
}

BatchReader::~BatchReader() = default;

Backend BatchReader::backend() const { return backend_; }

void BatchReader::read(std::span<const FileRequest> files, const Sink& sink) { impl_->read(files, sink); }

} // namespace qb::io
