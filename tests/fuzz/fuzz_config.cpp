// quickboot.toml loading (project::load): a config comes with a repository someone
// else made. The input is the text of quickboot.toml; a line "#--local--" splits off a
// quickboot.local.toml, and an odd first byte asks for the variant "v". Whatever load
// accepts must be sane; anything it refuses must be a qb::Error (a message for the
// user), never another exception, a crash or a stack overflow in the TOML parser.
#include <cmath>
#include <cstdint>
#include <fstream>
#include <string>

#include "core/error.hpp"
#include "fuzz_util.hpp"
#include "project/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  qb::fuzz::quiet();
  std::string text(reinterpret_cast<const char*>(data), size);
  std::string local;
  const std::string cut = "\n#--local--\n";
  bool has_local = false;
  if (auto at = text.find(cut); at != std::string::npos) {
    local = text.substr(at + cut.size());
    text.resize(at);
    has_local = true;
  }
  const auto root = qb::fuzz::scratch_dir();
  std::ofstream(root / qb::project::config_name, std::ios::binary) << text;
  if (has_local) std::ofstream(root / qb::project::local_config_name, std::ios::binary) << local;
  try {
    auto c = qb::project::load(root, size > 0 && (data[0] & 1) ? "v" : "");
    // Accepted values are within the documented bounds.
    if (!(c.timeout_s >= 0 && c.timeout_s <= qb::project::kMaxTimeoutS)) __builtin_trap();
    if (c.memory_mb < 16 || c.cpus < 1 || c.cpus > 256) __builtin_trap();
    if (c.export_zstd < 0 || c.export_zstd > 19) __builtin_trap();
    if (!c.rootfs.empty() && !c.rootfs.is_absolute()) __builtin_trap();
    for (const auto& i : c.injects)
      if (i.find(":/") == std::string::npos) __builtin_trap();
  } catch (const qb::Error&) {
  }
  return 0;
}
