#pragma once
// Quoting for /bin/sh (QEMU runs exec: migration URIs through it, and the guest's
// `eval "set -- ..."` rebuilds a command's argv from it), and for QEMU's KEY=VALUE,...
// option strings.
#include <string>
#include <string_view>
#include <vector>

namespace qb {

// One word in single quotes ('it'\''s' for it's).
std::string shell_quote(std::string_view word);

// Words quoted and joined with spaces.
std::string shell_quote(const std::vector<std::string>& argv);

// A value inside a QEMU option string (-fsdev local,path=VALUE,...): QEMU reads ",," as
// one comma, so a directory named "x,path=/" stays one value instead of a second key.
std::string qemu_quote(std::string_view value);

} // namespace qb
