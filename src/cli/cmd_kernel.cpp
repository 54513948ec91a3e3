#include "cli/commands.hpp"

namespace qb::cli {

void add_kernel_command(CLI::App&, GlobalOptions&) {}

} // namespace qb::cli
