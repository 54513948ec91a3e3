// The tar source of `quickboot export`: any archive (any filter libarchive detects)
// must give a tree or an Error, never a crash, a hang or unbounded memory, and the
// fs.json rendered from that tree must be valid JSON.
#include <cstdint>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "fuzz_util.hpp"
#include "v86/blob_store.hpp"
#include "v86/fs_json.hpp"
#include "v86/source.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  qb::fuzz::quiet();
  qb::fuzz::InputFile in(data, size);
  auto dir = qb::fuzz::scratch_dir();
  std::filesystem::create_directories(dir / ".quickboot");
  try {
    qb::v86::BlobStore store(dir, 0, std::vector<qb::v86::BlobRecord>{}, std::nullopt);
    qb::v86::Tree tree = qb::v86::read_tar(in.path(), {}, store, nullptr);
    qb::v86::sort_children(tree);
    std::string json = qb::v86::render_fs_json(tree, [&](const qb::v86::Entry& e) { return store.name_of(e.digest); });
    (void)nlohmann::json::parse(json);  // throws (and so aborts the run) when not JSON
  } catch (const qb::Error&) {
  }
  return 0;
}
