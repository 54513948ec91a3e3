#pragma once
// A directory from elsewhere exported as if it were part of the source tree: the
// kernel's modules (lib/modules/<release>) for a tree that lacks them.
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "v86/tree.hpp"

namespace qb::v86 {

struct Graft {
  std::string at;              // where it appears, relative to the source root ("usr/lib/modules/6.1.0-57-686")
  std::filesystem::path dir;   // what appears there
};

// Adds `sub` (a walk of a graft's directory, stat'ed as `dir_st`) to `tree` at `at`:
// paths are prefixed, missing ancestors are created as directories, children stay
// sorted. Returns the index of the first added entry; every entry from there on is
// the graft's (the graft root and created ancestors included). Throws Error when `at`
// exists already or crosses something that is not a directory.
std::uint32_t graft_tree(Tree& tree, const std::string& at, Tree&& sub, const struct stat& dir_st);

} // namespace qb::v86
