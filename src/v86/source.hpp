#pragma once
// Reading a source into a Tree: a directory walk (lstat only; content is read later,
// and only for what changed) or a tar archive (read once, blobs written on the way).
#include <filesystem>
#include <string>
#include <vector>

#include "v86/tree.hpp"

namespace qb::v86 {

class BlobStore;
class Compressor;
class WalkMemory;

struct SourceOptions {
  std::vector<std::string> excludes;  // normalised relative paths: a file, or a directory and all below
};

// Normalises a member or --exclude path: strips leading "/" and "./", empty and "."
// components, and a trailing "/". Returns "" for the root; nullopt-like "" + false
// when it holds "..".
bool normalise_path(std::string_view in, std::string& out);

bool excluded(const SourceOptions& o, std::string_view rel);

// Entries keep their whole path, so a deep tree costs the square of its depth in
// memory. Paths longer than PATH_MAX - 1 (which no guest could open by name anyway)
// are skipped with a warning, by both sources: depth stays below about 2,000.
inline constexpr std::size_t max_path_length = 4095;

// Walks directory `root` without following symlinks; children come sorted by name. Unreadable directories are added
// to `unreadable`; names that are not UTF-8 are skipped with a warning. Throws Error.
// `expect`: about how many entries there are (the last run's count), to size the tree.
// `memory`: the last run's record, to skip listing unchanged directories and reading
// unchanged symlinks (walk_memory.hpp).
Tree walk_directory(const std::filesystem::path& root, const SourceOptions& o, std::vector<std::string>& unreadable,
                    std::size_t expect = 0, const WalkMemory* memory = nullptr);

// Reads a tar archive (plain, gzip, xz, zstd, bzip2) and stores every file's content
// in `store`. Throws Error on a corrupt archive.
Tree read_tar(const std::filesystem::path& archive, const SourceOptions& o, BlobStore& store, Compressor* zc);

} // namespace qb::v86
