#pragma once
// Options every subcommand sees, and how a command reports its outcome to main().
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace qb::cli {

struct GlobalOptions {
  bool json = false;     // machine-readable output on stdout
  bool quiet = false;
  bool verbose = false;
  int exit_code = 0;     // set by the command that ran
};

// Prints `j` on stdout, one document, with a trailing newline.
void print_json(const nlohmann::json& j);

} // namespace qb::cli
