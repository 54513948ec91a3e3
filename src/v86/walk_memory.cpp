#include "v86/walk_memory.hpp"

#include <limits>

#include "v86/fs_json.hpp"

namespace qb::v86 {

namespace {

std::string_view parent_of(std::string_view p) {
  auto s = p.rfind('/');
  return s == std::string_view::npos ? std::string_view() : p.substr(0, s);
}

// What a walk can produce as a name. A state file is not trusted to hold only those:
// "..", say, would let a remembered listing reach outside the source.
bool plain_name(std::string_view n) {
  return !n.empty() && n != "." && n != ".." && n.find('\0') == std::string_view::npos && valid_utf8(n);
}

} // namespace

WalkMemory::WalkMemory(const State& last) : last_(last) {
  auto recs = last.recs();
  const auto n = static_cast<std::uint32_t>(recs.size());
  // Records are in depth-first order over sorted names, so each record's parent is the
  // nearest open directory above it: one pass with a stack of open directories.
  std::vector<std::int32_t> parent(n, none);
  untrusted_.assign(n, false);
  std::vector<std::uint32_t> open;
  std::vector<std::uint32_t> count(n + 1, 0);
  for (std::uint32_t i = 0; i < n; ++i) {
    std::string_view up = parent_of(last.path(recs[i]));
    while (!open.empty() && last.path(recs[open.back()]) != up) open.pop_back();
    if (!open.empty()) {
      parent[i] = static_cast<std::int32_t>(open.back());
      ++count[open.back()];
      if (!plain_name(last.path(recs[i]).substr(up.size() + 1))) untrusted_[open.back()] = true;
    }
    // (top-level entries, and orphans of a damaged order, have no recorded parent)
    if (S_ISDIR(recs[i].mode)) open.push_back(i);
  }
  first_child_.assign(n + 1, 0);
  for (std::uint32_t i = 0; i < n; ++i) first_child_[i + 1] = first_child_[i] + count[i];
  kids_.resize(first_child_[n]);
  std::vector<std::uint32_t> fill(first_child_.begin(), first_child_.end() - 1);
  for (std::uint32_t i = 0; i < n; ++i)
    if (parent[i] != none) kids_[fill[static_cast<std::uint32_t>(parent[i])]++] = i;
}

std::int32_t WalkMemory::find(std::string_view path) const {
  const StatRecord* r = last_.find(path);
  return r ? static_cast<std::int32_t>(r - last_.recs().data()) : none;
}

bool WalkMemory::children(std::int32_t rec, const StatRecord& dir, std::span<const std::uint32_t>& out) const {
  if (rec < 0) return false;
  const auto i = static_cast<std::uint32_t>(rec);
  const StatRecord& r = last_.recs()[i];
  if (!(r.flags & rec_listing_complete) || !S_ISDIR(r.mode) || untrusted_[i]) return false;
  if (!same_stat(r, dir, last_.written_ns)) {
    if (same_stat(r, dir, std::numeric_limits<std::int64_t>::max())) ++racy_;
    return false;
  }
  out = std::span<const std::uint32_t>(kids_).subspan(first_child_[i], first_child_[i + 1] - first_child_[i]);
  return true;
}

std::string_view WalkMemory::name(std::uint32_t rec) const {
  std::string_view p = last_.path(last_.recs()[rec]);
  auto s = p.rfind('/');
  return s == std::string_view::npos ? p : p.substr(s + 1);
}

bool WalkMemory::target(std::int32_t rec, const StatRecord& link, std::string_view& out) const {
  if (rec < 0) return false;
  const StatRecord& r = last_.recs()[static_cast<std::uint32_t>(rec)];
  if (!(r.flags & rec_target_stored) || !S_ISLNK(r.mode) || !same_stat(r, link, last_.written_ns)) return false;
  out = last_.target(r);
  return valid_utf8(out);  // written valid; a forged state is read again from disk
}

} // namespace qb::v86
