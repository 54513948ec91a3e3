#pragma once
// What a `kernel add` SOURCE is, decided from its content (magic bytes), not its name.
#include <filesystem>
#include <string_view>

namespace qb::kernel {

enum class SourceKind { directory, deb, tarball, iso, bzimage };

std::string_view source_kind_name(SourceKind k);

// Throws Error naming `path` when it is missing, unreadable, or none of the above
// (with a hint listing what quickboot accepts).
SourceKind detect_source(const std::filesystem::path& path);

} // namespace qb::kernel
