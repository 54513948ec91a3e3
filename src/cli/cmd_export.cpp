#include "cli/commands.hpp"

namespace qb::cli {

void add_export_command(CLI::App&, GlobalOptions&) {}

} // namespace qb::cli
