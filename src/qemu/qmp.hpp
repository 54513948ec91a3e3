#pragma once
// A minimal QMP client over the VM's unix socket: capabilities negotiation, then one
// command at a time. Used by the watch loop to reset or quit a running guest.
#include <chrono>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "core/fd.hpp"

namespace qb::qemu {

class QmpClient {
public:
  // Connects (retrying until `timeout`, since QEMU creates the socket at start-up) and
  // negotiates capabilities. Throws Error naming the socket.
  QmpClient(const std::filesystem::path& socket, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Sends {"execute": command} and returns its "return" member; events are skipped.
  // Throws Error with QEMU's error description.
  nlohmann::json execute(const std::string& command, const nlohmann::json& arguments = nullptr);

private:
  nlohmann::json read_message();
  std::filesystem::path socket_;
  Fd fd_;
  std::string buffer_;
};

} // namespace qb::qemu
