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

std::string zstd_decompress(std::string_view data, std::string_view what) {
  std::string out;
  auto bad = [&](std::string_view detail) {
    return Error(fmt::format("{} is not a complete zstd archive ({})", what, detail),
                 "remove it; quickboot rebuilds it (it is a cache file)");
  };
  while (data.find_first_not_of('\0') != std::string_view::npos) {
    const std::size_t frame = ZSTD_findFrameCompressedSize(data.data(), data.size());
    if (ZSTD_isError(frame)) throw bad(ZSTD_getErrorName(frame));
    const unsigned long long size = ZSTD_getFrameContentSize(data.data(), frame);
    if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR) throw bad("no content size");
    const std::size_t at = out.size();
    out.resize(at + size);
    const std::size_t n = ZSTD_decompress(out.data() + at, size, data.data(), frame);
    if (ZSTD_isError(n) || n != size) throw bad(ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame");
    data.remove_prefix(frame);
  }
  return out;
}

} // namespace qb::initramfs
