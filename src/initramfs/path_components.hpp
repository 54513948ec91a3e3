#pragma once
// Path resolution inside an image or a rootfs works on a stack of components, so that a
// symlink's target can be pushed in front of what is left of the path.
#include <string>
#include <vector>

namespace qb::initramfs {

// Pushes the non-empty components of `p` onto `stack` so that the first is popped first.
inline void push_components(std::vector<std::string>& stack, const std::string& p) {
  std::vector<std::string> parts;
  for (std::size_t i = 0; i <= p.size();) {
    auto j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    if (j > i) parts.emplace_back(p, i, j - i);
    i = j + 1;
  }
  stack.insert(stack.end(), parts.rbegin(), parts.rend());
}

} // namespace qb::initramfs
