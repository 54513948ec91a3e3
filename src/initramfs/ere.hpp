#pragma once
// POSIX extended regular expressions, as `grep -E` reads the patterns mkinitcpio's
// hooks pass (module paths, exported symbols). The C library's matcher: std::regex was
// most of a cold default-HOOKS build.
#include <regex.h>

#include <string>
#include <string_view>

namespace qb::initramfs {

class Ere {
public:
  // Throws Error naming `pattern` and `where` (the hook asking) when it does not compile.
  Ere(const std::string& pattern, std::string_view where);
  ~Ere();
  Ere(const Ere&) = delete;
  Ere& operator=(const Ere&) = delete;
  Ere(Ere&& other) noexcept;

  // Whether the pattern matches somewhere in `text` (which may hold NUL bytes).
  bool search(std::string_view text) const;

private:
  regex_t re_{};
  bool compiled_ = false;
};

// Whether some line of `data` (lines end at NUL or newline, as grep reads a binary)
// starts with a match of `pattern`: mkinitcpio's symbol search, `grep -Eq "^(SYM)"`.
bool any_line_starts_with(std::string_view data, const std::string& pattern, std::string_view where);

} // namespace qb::initramfs
