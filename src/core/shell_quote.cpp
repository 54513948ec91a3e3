#include "core/shell_quote.hpp"

namespace qb {

std::string shell_quote(std::string_view word) {
  std::string q = "'";
  for (char c : word) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

std::string shell_quote(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    s += shell_quote(std::string_view(a));
  }
  return s;
}

std::string qemu_quote(std::string_view value) {
  std::string q;
  for (char c : value) {
    q += c;
    if (c == ',') q += ',';
  }
  return q;
}

} // namespace qb
