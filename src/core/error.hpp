#pragma once
// The one error type of quickboot. Thrown anywhere below the CLI, caught once in
// cli/main.cpp, printed as "quickboot: error: WHAT" plus "  hint: HINT".
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace qb {

// Process exit codes; docs/exit-codes.md documents them for users.
enum class ExitCode : int {
  success = 0,
  failure = 1,         // any error quickboot detected (bad input, I/O, missing tool)
  usage = 2,           // bad command line
  guest_failed = 3,    // the guest booted but failed (hook error, no init, panic)
  boot_failed = 4,     // the guest never reached the command (boot hang, QEMU died)
  timeout = 124,       // `run --timeout` expired
  not_found = 127,     // `run`: the command was not found in the guest
  interrupted = 130,   // SIGINT / SIGTERM
};

class Error : public std::runtime_error {
public:
  Error(std::string what, std::string hint = {}, ExitCode code = ExitCode::failure);

  // "OP PATH: strerror(errno)", e.g. "cannot open /x: No such file or directory".
  static Error from_errno(std::string_view op, const std::filesystem::path& path,
                          std::string hint = {}, int err = 0);

  const std::string& hint() const { return hint_; }
  ExitCode exit_code() const { return code_; }

private:
  std::string hint_;
  ExitCode code_;
};

} // namespace qb
