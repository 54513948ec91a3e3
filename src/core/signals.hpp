#pragma once
// Turns SIGINT, SIGTERM and SIGHUP into a readable fd for poll() loops, while alive.
// The previous handlers come back in the destructor. Nested instances share the pipe,
// so a signal seen by an inner loop is still readable by the outer one.
#include <csignal>

namespace qb {

class SignalPipe {
public:
  SignalPipe();
  ~SignalPipe();
  SignalPipe(const SignalPipe&) = delete;
  SignalPipe& operator=(const SignalPipe&) = delete;

  int fd() const;          // readable once a signal arrived
  int received() const;    // the last signal number, 0 if none
};

} // namespace qb
