#include "initramfs/image_install.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/file_util.hpp"

namespace qb::initramfs {

namespace {

// Where the outputs made from an image are recorded: one line per output,
// "<absolute out>\t<image identity>\t<out identity>".
fs::path stamp_path(const fs::path& image) { return image.string() + ".installed"; }

// The output as it is now, or "" when it is not a regular file. ctime is in it because
// every change to the file moves it and nothing can set it back (mtime can be).
std::string output_identity(const fs::path& out) {
  struct stat st{};
  if (::lstat(out.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
  return fmt::format("{}|{}|{}|{}.{}|{}.{}", st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                     st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

struct StampLine {
  std::string out, image, identity;
};

std::vector<StampLine> read_stamps(const fs::path& image) {
  std::vector<StampLine> lines;
  std::string text;
  try {
    text = read_regular_file(stamp_path(image), 1 << 20);
  } catch (const Error&) {
    return lines;  // none yet, or unreadable: every output gets copied
  }
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto a = line.find('\t'), b = line.find('\t', a == std::string::npos ? a : a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    lines.push_back({line.substr(0, a), line.substr(a + 1, b - a - 1), line.substr(b + 1)});
  }
  return lines;
}

void copy_image(const fs::path& image, const fs::path& out) {
  // Atomic (rename) but not fsync'd: the image can always be rebuilt from the cache,
  // and an fsync of a few MB costs more than the whole cached build.
  AtomicFile f(out, copy_mode(image));
  Fd in(::open(image.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) throw Error::from_errno("cannot open", image);
  // In-kernel copy (a reflink where the filesystem can): no trip through user space.
  for (;;) {
    ssize_t n = ::copy_file_range(in.get(), nullptr, f.fd(), nullptr, 1 << 30, 0);
    if (n < 0) throw Error::from_errno("cannot copy the image to", out);
    if (n == 0) break;
  }
  f.commit(false);
}

} // namespace

bool install_image(const fs::path& image, const fs::path& out_arg) {
  const fs::path out = fs::absolute(out_arg).lexically_normal();
  const std::string image_id = file_identity(image);
  auto stamps = read_stamps(image);
  const std::string now = output_identity(out);
  for (const auto& s : stamps)
    if (s.out == out.string() && s.image == image_id && !now.empty() && s.identity == now) return false;

  copy_image(image, out);
  // Recorded best-effort: without the stamp the next cached build copies again.
  std::string text = fmt::format("{}\t{}\t{}\n", out.string(), image_id, output_identity(out));
  std::size_t kept = 0;
  for (auto it = stamps.rbegin(); it != stamps.rend() && kept < 15; ++it)
    if (it->out != out.string() && it->out.find('\n') == std::string::npos) {
      text += fmt::format("{}\t{}\t{}\n", it->out, it->image, it->identity);
      ++kept;
    }
  try {
    AtomicFile f(stamp_path(image), 0644);
    f.write(text);
    f.commit(false);
  } catch (const Error&) {
  }
  return true;
}

} // namespace qb::initramfs
