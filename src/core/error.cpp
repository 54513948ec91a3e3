#include "core/error.hpp"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace qb {

Error::Error(std::string what, std::string hint, ExitCode code)
    : std::runtime_error(std::move(what)), hint_(std::move(hint)), code_(code) {}

Error Error::from_errno(std::string_view op, const std::filesystem::path& path,
                        std::string hint, int err) {
  if (err == 0) err = errno;
  return Error(fmt::format("{} {}: {}", op, path.string(), std::strerror(err)), std::move(hint));
}

} // namespace qb
