#pragma once
// Quoting for /bin/sh: QEMU runs exec: migration URIs through it, and the guest's
// `eval "set -- ..."` rebuilds a command's argv from it.
#include <string>
#include <string_view>
#include <vector>

namespace qb {

// One word in single quotes ('it'\''s' for it's).
std::string shell_quote(std::string_view word);

// Words quoted and joined with spaces.
std::string shell_quote(const std::vector<std::string>& argv);

} // namespace qb
