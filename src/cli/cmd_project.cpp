#include "cli/commands.hpp"

namespace qb::cli {

void add_project_commands(CLI::App&, GlobalOptions&) {}

} // namespace qb::cli
