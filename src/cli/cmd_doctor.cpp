#include "cli/commands.hpp"

namespace qb::cli {

void add_doctor_command(CLI::App&, GlobalOptions&) {}

} // namespace qb::cli
