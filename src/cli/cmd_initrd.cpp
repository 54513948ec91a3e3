#include "cli/commands.hpp"

namespace qb::cli {

void add_initrd_command(CLI::App&, GlobalOptions&) {}

} // namespace qb::cli
