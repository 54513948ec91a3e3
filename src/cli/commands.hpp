#pragma once
// One registration function per subcommand; each lives in its own cmd_*.cpp.
#include <CLI/CLI.hpp>

#include "cli/global_options.hpp"

namespace qb::cli {

void add_kernel_command(CLI::App& app, GlobalOptions& g);
void add_initrd_command(CLI::App& app, GlobalOptions& g);
void add_boot_commands(CLI::App& app, GlobalOptions& g);   // boot and run
void add_export_command(CLI::App& app, GlobalOptions& g);
void add_watch_command(CLI::App& app, GlobalOptions& g);
void add_project_commands(CLI::App& app, GlobalOptions& g); // up and clean
void add_doctor_command(CLI::App& app, GlobalOptions& g);
void add_serve_command(CLI::App& app, GlobalOptions& g);

// --timeout S: a number of seconds from 0 up to project::kMaxTimeoutS. inf, nan and
// 1e10 are refused as bad usage (a deadline that far overflows the clock arithmetic).
CLI::Validator timeout_seconds();

} // namespace qb::cli
