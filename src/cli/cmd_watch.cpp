#include "cli/commands.hpp"

namespace qb::cli {

void add_watch_command(CLI::App&, GlobalOptions&) {}

} // namespace qb::cli
