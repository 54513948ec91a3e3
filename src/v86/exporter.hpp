#pragma once
// `quickboot export`: turns a directory or tar archive into v86's fs.json plus blobs,
// incrementally. Order of effects, so an interrupted run never publishes a broken set:
// new blobs (each linked in whole) -> [--sync: syncfs] -> fs.json (atomic) -> state -> prune.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/io/batch_reader.hpp"
#include "v86/graft.hpp"

namespace qb::v86 {

struct ExportOptions {
  std::filesystem::path source;
  std::filesystem::path out;
  int zstd_level = 0;                 // 0: plain .bin blobs
  std::vector<std::string> excludes;  // relative to the source
  std::vector<Graft> grafts;          // directories added as if in the source (directory sources only)
  bool prune = false;
  bool skip_unreadable = false;
  // fsync/syncfs so that the export survives a power failure (off by default, like
  // git's objects; a killed process never leaves a broken set either way).
  bool durable = false;
  io::Backend backend = io::Backend::automatic;
  unsigned threads = 0;
};

struct Delta {
  std::vector<std::string> blobs_added, blobs_removed;
  std::vector<std::string> entries_added, entries_removed, entries_changed;
  std::uint64_t entries = 0, files_hashed = 0, bytes_hashed = 0, total_size = 0;
  std::vector<std::string> skipped;   // non-UTF-8 names, unreadable files under --skip-unreadable
  std::string backend;
  int collisions = 0;
  std::uint64_t dirs_listed = 0;  // directories read; the others were unchanged since the last run
  bool fs_json_changed = false;
  std::vector<std::pair<std::string, double>> timings_ms;

  nlohmann::json to_json() const;
  // The same document as text, written directly (a full export's delta lists every
  // path: building it as a json value first cost a tenth of the export).
  std::string to_json_text() const;
};

// Runs one export. Throws Error (the previous output stays as it was).
Delta run_export(const ExportOptions& o);

} // namespace qb::v86
