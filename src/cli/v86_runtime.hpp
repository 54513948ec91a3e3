#pragma once
// Finds v86's own files (the npm package `v86`: build/libv86.js, build/v86.wasm) for a
// bundle, or fetches the tested version with npm into quickboot's download cache.
#include <filesystem>
#include <optional>
#include <string>

namespace qb::cli {

// The version the bundle and its tests were tested with, and its npm integrity.
inline constexpr const char* kV86Version = "0.5.462";
inline constexpr const char* kV86Integrity =
    "sha512-aKPX7DdzqAKFRv2omDkqSju0uEzlOxzo+II82J5UT7+tZNsboA6kyaNq9NKAnxvo9hzpJ8dQj7vcvcz0J7I2QA==";

struct V86Runtime {
  std::filesystem::path package;  // the package directory (holds build/)
  std::string found_in;           // for the log: "$QUICKBOOT_V86_DIR", "./node_modules", ...
};

// Looks, in order: $QUICKBOOT_V86_DIR (a package directory), node_modules/v86 in the
// current directory or a parent (the project's `npm install v86`), the global npm
// prefix (`npm root -g`), quickboot's download cache. nullopt when none has the files.
std::optional<V86Runtime> find_v86_runtime();

// find_v86_runtime(), else `npm install v86@kV86Version` into the download cache, with
// a progress line; the installed package's integrity must equal kV86Integrity.
// Throws Error (nothing is left in the cache) when npm is missing or the fetch fails.
V86Runtime find_or_fetch_v86_runtime();

} // namespace qb::cli
