// A tar archive as the source: read once, in order; every regular member's content is
// hashed and stored on the way (small ones from memory, large ones streamed).
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

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

struct TarBuilder {
  Tree tree;
  std::unordered_map<std::string, std::uint32_t> index;  // path -> entry

  // The entry for `path`, creating it and any missing parents (as 0755 directories).
  std::uint32_t get(const std::string& path) {
    if (auto it = index.find(path); it != index.end()) return it->second;
    std::int32_t parent = -1;
    if (auto s = path.rfind('/'); s != std::string::npos) {
      parent = static_cast<std::int32_t>(get(path.substr(0, s)));
      if (!tree.entries[static_cast<std::size_t>(parent)].is_dir()) tree.entries[static_cast<std::size_t>(parent)].mode = S_IFDIR | 0755;
    }
    auto i = static_cast<std::uint32_t>(tree.entries.size());
    Entry e;
    e.path = path;
    e.mode = S_IFDIR | 0755;
    e.parent = parent;
    tree.entries.push_back(std::move(e));
    (parent < 0 ? tree.root : tree.entries[static_cast<std::size_t>(parent)].children).push_back(i);
    index.emplace(path, i);
    return i;
  }
};

} // namespace

Tree read_tar(const std::filesystem::path& file, const SourceOptions& o, BlobStore& store, Compressor* zc) {
  ArchiveReader a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_filename(a.get(), file.c_str(), 1 << 16) != ARCHIVE_OK)
    throw Error(fmt::format("cannot read {}: {}", file.string(), archive_error_string(a.get())),
                "SOURCE must be a directory or a tar archive (plain, .gz, .xz, .zst)");
  TarBuilder b;
  std::string content, rel, staged_buf;
  archive_entry* ae;
  int n_members = 0;
  for (;;) {
    int r = archive_read_next_header(a.get(), &ae);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN)
      throw Error(fmt::format("corrupt archive {}: {}", file.string(), archive_error_string(a.get())));
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
    std::uint32_t idx = b.get(rel);
    Entry& e = b.tree.entries[idx];
    e.mode = archive_entry_mode(ae);
    e.uid = static_cast<std::uint32_t>(archive_entry_uid(ae));
    e.gid = static_cast<std::uint32_t>(archive_entry_gid(ae));
    e.mtime_ns = std::int64_t(archive_entry_mtime(ae)) * 1000000000 + archive_entry_mtime_nsec(ae);
    e.ctime_ns = e.mtime_ns;
    e.size = 0;
    if (const char* hl = archive_entry_hardlink(ae)) {
      std::string target;
      normalise_path(hl, target);
      auto it = b.index.find(target);
      if (it == b.index.end() || !b.tree.entries[it->second].is_reg()) {
        log::warn("skipping hard link {}: its target {} is not a file in the archive", rel, printable(target));
        continue;
      }
      const Entry& t = b.tree.entries[it->second];
      Entry& me = b.tree.entries[idx];
      me.mode = t.mode;
      me.size = t.size;
      me.digest = t.digest;
      me.hashed = true;
      continue;
    }
    if (e.is_lnk()) {
      const char* t = archive_entry_symlink(ae);
      e.target = t ? t : "";
      e.size = e.target.size();
      if (!valid_utf8(e.target)) {
        log::warn("skipping {}: the symlink target is not valid UTF-8", printable(rel));
        e.mode = S_IFDIR | 0755;  // leave a harmless placeholder? no: drop below
        b.tree.skipped.push_back(rel);
      }
      continue;
    }
    if (!e.is_reg()) continue;
    // Content: sparse members come as blocks with offsets; the gaps are zeros.
    std::uint64_t total = static_cast<std::uint64_t>(archive_entry_size(ae));
    Sha256 h;
    content.clear();
    const bool in_memory = total <= (8u << 20);
    std::unique_ptr<AtomicFile> staged;
    std::filesystem::path staged_path = store.dir() / ".quickboot" / "tar-staging";
    if (!in_memory) {
      staged = std::make_unique<AtomicFile>(staged_path);
      if (zc) zc->begin(total);
    }
    std::uint64_t pos = 0;
    static const std::vector<std::byte> zeros(1 << 16);
    auto emit = [&](const std::byte* p, std::size_t n) {
      h.update(p, n);
      pos += n;
      if (in_memory) content.append(reinterpret_cast<const char*>(p), n);
      else if (zc) zc->feed({p, n}, *staged, false);
      else staged->write(p, n);
    };
    for (;;) {
      const void* buf;
      std::size_t len;
      la_int64_t off;
      r = archive_read_data_block(a.get(), &buf, &len, &off);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN)
        throw Error(fmt::format("corrupt archive {} at {}: {}", file.string(), rel, archive_error_string(a.get())));
      while (pos < static_cast<std::uint64_t>(off)) emit(zeros.data(), std::min<std::uint64_t>(zeros.size(), std::uint64_t(off) - pos));
      emit(static_cast<const std::byte*>(buf), len);
    }
    while (pos < total) emit(zeros.data(), std::min<std::uint64_t>(zeros.size(), total - pos));
    Entry& fe = b.tree.entries[idx];
    fe.size = pos;
    fe.digest = h.finish();
    fe.hashed = true;
    if (in_memory) {
      store.put(fe.digest, {reinterpret_cast<const std::byte*>(content.data()), content.size()}, zc);
    } else {
      if (zc) zc->feed({}, *staged, true);
      staged->commit(false);
      store.adopt(fe.digest, staged_path);
    }
  }
  if (n_members == 0) throw Error(fmt::format("{} holds no files", file.string()), "is it a tar archive?");
  // Drop the members skipped above for bad symlink targets, and their placeholders.
  for (auto& p : b.tree.skipped) {
    auto it = b.index.find(p);
    if (it == b.index.end()) continue;
    auto& e = b.tree.entries[it->second];
    auto& sib = e.parent < 0 ? b.tree.root : b.tree.entries[static_cast<std::size_t>(e.parent)].children;
    std::erase(sib, it->second);
  }
  return std::move(b.tree);
}

} // namespace qb::v86
