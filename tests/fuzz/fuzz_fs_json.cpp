// fs.json rendering of odd names: the input is cut into names and symlink targets
// (NUL-separated, the first byte of each piece picks the kind); names that are not
// UTF-8 are left out as the sources do. The output must be JSON that gives the same
// names and targets back.
#include <sys/stat.h>

#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_util.hpp"
#include "v86/fs_json.hpp"

using qb::v86::Entry;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  qb::v86::Tree tree;
  std::int32_t dir = -1;  // children go into the last directory made
  while (!in.empty()) {
    auto cut = in.find('\0');
    std::string_view piece = in.substr(0, cut);
    in.remove_prefix(cut == std::string_view::npos ? in.size() : cut + 1);
    if (piece.empty()) continue;
    char kind = piece[0];
    piece.remove_prefix(1);
    std::string_view target;
    if (auto eq = piece.find('='); eq != std::string_view::npos) {
      target = piece.substr(eq + 1);
      piece = piece.substr(0, eq);
    }
    if (piece.empty() || piece.find('/') != std::string_view::npos || !qb::v86::valid_utf8(piece) ||
        !qb::v86::valid_utf8(target))
      continue;
    Entry e;
    e.path = dir < 0 ? std::string(piece) : tree.entries[static_cast<std::size_t>(dir)].path + "/" + std::string(piece);
    e.parent = dir;
    e.mode = (kind & 3) == 0 ? S_IFDIR | 0755 : (kind & 3) == 1 ? S_IFLNK | 0777 : S_IFREG | 0644;
    e.mtime_ns = static_cast<std::int64_t>(static_cast<signed char>(kind)) * 1000000007;
    if (e.is_lnk()) e.target = target, e.size = target.size();
    if (e.is_reg()) e.size = target.size(), e.hashed = true;
    auto i = static_cast<std::uint32_t>(tree.entries.size());
    tree.entries.push_back(std::move(e));
    (dir < 0 ? tree.root : tree.entries[static_cast<std::size_t>(dir)].children).push_back(i);
    if (tree.entries[i].is_dir() && (kind & 4)) dir = static_cast<std::int32_t>(i);
  }
  qb::v86::sort_children(tree);
  std::string out = qb::v86::render_fs_json(tree, [](const Entry&) { return std::string("0123abcd.bin"); });
  auto j = nlohmann::json::parse(out);
  // Names and targets come back as written.
  std::vector<std::pair<const nlohmann::json*, const std::vector<std::uint32_t>*>> todo{{&j["fsroot"], &tree.root}};
  while (!todo.empty()) {
    auto [list, kids] = todo.back();
    todo.pop_back();
    if (list->size() != kids->size()) __builtin_trap();
    for (std::size_t k = 0; k < kids->size(); ++k) {
      const Entry& e = tree.entries[(*kids)[k]];
      const auto& item = (*list)[k];
      if (item[0].get<std::string>() != e.name()) __builtin_trap();
      if (e.is_lnk() && item[6].get<std::string>() != e.target) __builtin_trap();
      if (e.is_dir()) todo.push_back({&item[6], &e.children});
    }
  }
  return 0;
}
