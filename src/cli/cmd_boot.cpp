#include "cli/commands.hpp"

namespace qb::cli {

void add_boot_commands(CLI::App&, GlobalOptions&) {}

} // namespace qb::cli
