// A tar archive as the source: read once, in order; every regular member's content is
// hashed and stored on the way (small ones from memory, large ones streamed).
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <unistd.h>

#include <algorithm>
#include <memory>
#include <unordered_map>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/log.hpp"
#include "v86/blob_store.hpp"
#include "v86/fs_json.hpp"
#include "v86/source.hpp"

namespace qb::v86 {

using ArchiveReader = std::unique_ptr<archive, Deleter<archive_read_free>>;

namespace {

// libarchive's message, which is null for some failures (a fuzzed archive found one:
// formatting a null char* threw, and the export died with "internal error").
const char* archive_why(archive* a) {
  const char* m = archive_error_string(a);
  return m ? m : "unrecognised or damaged data";
}

struct TarBuilder {
  Tree tree;
  std::unordered_map<std::string, std::uint32_t> index;  // path -> entry
  std::uint64_t path_bytes = 0;                           // the sum of every entry's path length

  // The entry for `path`, creating it and any missing parents (as 0755 directories).
  // A loop over the missing ancestors, not a recursion per component: a member
  // nested thousands of levels deep must not exhaust the stack.
  std::uint32_t get(const std::string& path) {
    if (auto it = index.find(path); it != index.end()) return it->second;
    // The deepest ancestor that exists; then create the missing ones downwards.
    std::vector<std::size_t> cuts;  // ends of the missing prefixes, deepest first
    std::int32_t parent = -1;
    for (std::size_t end = path.size();;) {
      cuts.push_back(end);
      auto s = path.rfind('/', end - 1);
      if (s == std::string::npos) break;
      if (auto it = index.find(path.substr(0, s)); it != index.end()) {
        parent = static_cast<std::int32_t>(it->second);
        break;
      }
      end = s;
    }
    if (parent >= 0 && !tree.entries[static_cast<std::size_t>(parent)].is_dir())
      tree.entries[static_cast<std::size_t>(parent)].mode = S_IFDIR | 0755;
    std::uint32_t i = 0;
    for (auto c = cuts.rbegin(); c != cuts.rend(); ++c) {
      i = static_cast<std::uint32_t>(tree.entries.size());
      Entry e;
      e.path = path.substr(0, *c);
      e.mode = S_IFDIR | 0755;
      e.parent = parent;
      path_bytes += e.path.size();
      index.emplace(e.path, i);
      tree.entries.push_back(std::move(e));
      (parent < 0 ? tree.root : tree.entries[static_cast<std::size_t>(parent)].children).push_back(i);
      parent = static_cast<std::int32_t>(i);
    }
    return i;
  }
};

// Members longer than max_path_length are skipped (source.hpp), and the paths of all
// entries together are capped: a small compressed archive of many deep members would
// otherwise take gigabytes.
constexpr std::uint64_t max_path_bytes = 256ull << 20;

// Zero runs of at least this size become holes in plain blobs (as for directories).
constexpr std::size_t tar_hole_piece = 64 * 1024;

} // namespace

Tree read_tar(const std::filesystem::path& file, const SourceOptions& o, BlobStore& store, Compressor* zc) {
  ArchiveReader a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_filename(a.get(), file.c_str(), 1 << 16) != ARCHIVE_OK)
    throw Error(fmt::format("cannot read {}: {}", file.string(), archive_why(a.get())),
                "SOURCE must be a directory or a tar archive (plain, .gz, .xz, .zst)");
  TarBuilder b;
  std::string content, rel;
  std::vector<std::uint32_t> bad_links;  // symlinks whose target fs.json cannot hold
  archive_entry* ae;
  int n_members = 0;
  for (;;) {
    int r = archive_read_next_header(a.get(), &ae);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN)
      throw Error(fmt::format("corrupt archive {}: {}", file.string(), archive_why(a.get())));
    ++n_members;
    const char* raw = archive_entry_pathname(ae);
    if (!raw || !normalise_path(raw, rel)) {
      log::warn("skipping archive member {}: the path leaves the root", printable(raw ? raw : "?"));
      continue;
    }
    if (rel.empty() || excluded(o, rel)) continue;  // "./" itself: the root has no entry
    if (!valid_utf8(rel)) {
      log::warn("skipping {}: the name is not valid UTF-8, which fs.json cannot hold", printable(rel));
      b.tree.skipped.push_back(rel);
      continue;
    }
    if (rel.size() > max_path_length) {
      log::warn("skipping archive member {}...: its path is longer than {} bytes", printable(rel.substr(0, 60)),
                max_path_length);
      b.tree.skipped.push_back(rel.substr(0, 200));
      continue;
    }
    // A hard link is resolved before anything is created for it: one whose target is
    // not an earlier regular member (or leaves the root) is left out entirely.
    std::int64_t link_target = -1;
    if (const char* hl = archive_entry_hardlink(ae)) {
      std::string target;
      auto it = normalise_path(hl, target) ? b.index.find(target) : b.index.end();
      if (it == b.index.end() || !b.tree.entries[it->second].is_reg() || target == rel) {
        log::warn("skipping hard link {}: its target {} is not a file in the archive", printable(rel), printable(hl));
        b.tree.skipped.push_back(rel);
        continue;
      }
      link_target = it->second;
    }
    std::uint32_t idx = b.get(rel);
    if (b.path_bytes > max_path_bytes)
      throw Error(fmt::format("{}: the archive's member paths add up to more than {} MiB", file.string(),
                              max_path_bytes >> 20),
                  "this is not a tree quickboot can export (deeply nested members?)");
    if (link_target >= 0) {
      const Entry t = b.tree.entries[static_cast<std::size_t>(link_target)];
      Entry& me = b.tree.entries[idx];
      me.mode = t.mode;
      me.uid = t.uid;
      me.gid = t.gid;
      me.mtime_ns = t.mtime_ns;
      me.ctime_ns = t.ctime_ns;
      me.size = t.size;
      me.digest = t.digest;
      me.hashed = true;
      continue;
    }
    Entry& e = b.tree.entries[idx];
    e.mode = archive_entry_mode(ae);
    if ((e.mode & S_IFMT) == 0) e.mode |= S_IFREG;  // old tars: a plain file
    e.uid = static_cast<std::uint32_t>(archive_entry_uid(ae));
    e.gid = static_cast<std::uint32_t>(archive_entry_gid(ae));
    e.mtime_ns = std::int64_t(archive_entry_mtime(ae)) * 1000000000 + archive_entry_mtime_nsec(ae);
    e.ctime_ns = e.mtime_ns;
    e.size = 0;
    if (e.is_lnk()) {
      const char* t = archive_entry_symlink(ae);
      e.target = t ? t : "";
      e.size = e.target.size();
      if (!valid_utf8(e.target)) {
        log::warn("skipping {}: the symlink target is not valid UTF-8", printable(rel));
        b.tree.skipped.push_back(rel);
        bad_links.push_back(idx);  // dropped below
      }
      continue;
    }
    if (!e.is_reg()) continue;
    // Content: sparse members come as blocks with offsets; the gaps are zeros. Small
    // members are kept in memory; larger ones go to an anonymous blob file in DIR,
    // where zero runs (the gaps of a sparse member, or zeros written out) stay holes
    // in plain blobs: a tiny archive declaring a 10 GB sparse member costs the hashing
    // of 10 GB of zeros, not 10 GB of disk.
    const std::uint64_t total = static_cast<std::uint64_t>(std::max<la_int64_t>(archive_entry_size(ae), 0));
    Sha256 h;
    content.clear();
    const bool in_memory = total <= (8u << 20);
    std::unique_ptr<BlobFile> staged;
    if (!in_memory) {
      staged = std::make_unique<BlobFile>(store.dir_fd());
      if (zc) zc->begin(total);
    }
    std::uint64_t pos = 0;
    bool hole_at_end = false;
    static const std::vector<std::byte> zeros(tar_hole_piece);
    // `n` bytes at `p`, or zeros when p is null.
    auto emit = [&](const std::byte* p, std::size_t n) {
      h.update(p ? p : zeros.data(), n);
      pos += n;
      if (in_memory) {
        if (p) content.append(reinterpret_cast<const char*>(p), n);
        else content.append(n, '\0');
      } else if (zc) {
        zc->feed({p ? p : zeros.data(), n}, *staged, false);
      } else if (!p) {
        if (::lseek(staged->fd(), static_cast<off_t>(n), SEEK_CUR) < 0) throw Error::from_errno("cannot seek in a blob", rel);
        hole_at_end = true;
      } else {
        staged->write(p, n);
        hole_at_end = false;
      }
    };
    auto emit_zeros = [&](std::uint64_t n) {
      while (n > 0) {
        auto k = static_cast<std::size_t>(std::min<std::uint64_t>(n, zeros.size()));
        emit(nullptr, k);
        n -= k;
      }
    };
    for (;;) {
      const void* buf;
      std::size_t len;
      la_int64_t off;
      r = archive_read_data_block(a.get(), &buf, &len, &off);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN)
        throw Error(fmt::format("corrupt archive {} at {}: {}", file.string(), printable(rel), archive_why(a.get())));
      if (off < 0 || static_cast<std::uint64_t>(off) < pos || static_cast<std::uint64_t>(off) + len > total)
        throw Error(fmt::format("corrupt archive {} at {}: a data block lies outside the member's {} bytes",
                                file.string(), printable(rel), total));
      emit_zeros(static_cast<std::uint64_t>(off) - pos);
      emit(static_cast<const std::byte*>(buf), len);
    }
    emit_zeros(total - pos);
    Entry& fe = b.tree.entries[idx];
    fe.size = pos;
    fe.digest = h.finish();
    fe.hashed = true;
    if (in_memory) {
      store.put(fe.digest, {reinterpret_cast<const std::byte*>(content.data()), content.size()}, zc);
    } else {
      if (zc) zc->feed({}, *staged, true);
      else if (hole_at_end && ::ftruncate(staged->fd(), static_cast<off_t>(pos)) != 0)
        throw Error::from_errno("cannot truncate a blob", rel);
      store.adopt(fe.digest, *staged);
    }
  }
  if (n_members == 0) throw Error(fmt::format("{} holds no files", file.string()), "is it a tar archive?");
  // Drop the symlinks skipped above (a later member of the same name may have made
  // one a directory: its subtree goes with it).
  for (auto idx : bad_links) {
    auto& e = b.tree.entries[idx];
    auto& sib = e.parent < 0 ? b.tree.root : b.tree.entries[static_cast<std::size_t>(e.parent)].children;
    std::erase(sib, idx);
  }
  return std::move(b.tree);
}

} // namespace qb::v86
