#include "initramfs/zstd_frames.hpp"

#include <zstd.h>

#include <algorithm>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/fd.hpp"

namespace qb::initramfs {

std::string zstd_compress(std::string_view raw, int level) {
  std::unique_ptr<ZSTD_CCtx, Deleter<ZSTD_freeCCtx>> ctx(ZSTD_createCCtx());
  if (!ctx) throw Error("libzstd: cannot create a compression context");
  auto check = [](std::size_t rc, const char* what) {
    if (ZSTD_isError(rc)) throw Error(fmt::format("libzstd: cannot set {}: {}", what, ZSTD_getErrorName(rc)));
  };
  check(ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_compressionLevel, level), "the level");
  // The output of multi-threaded zstd does not depend on the number of workers.
  const int workers = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
  check(ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_nbWorkers, workers), "the worker count");
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  std::size_t n = ZSTD_compress2(ctx.get(), out.data(), out.size(), raw.data(), raw.size());
  if (ZSTD_isError(n)) throw Error(fmt::format("zstd compression failed: {}", ZSTD_getErrorName(n)));
  out.resize(n);
  return out;
}

} // namespace qb::initramfs
