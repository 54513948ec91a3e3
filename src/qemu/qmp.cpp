#include "qemu/qmp.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "core/error.hpp"

namespace qb::qemu {

QmpClient::QmpClient(const std::filesystem::path& socket, std::chrono::milliseconds timeout) : socket_(socket) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) break;
    if (std::chrono::steady_clock::now() > deadline) throw Error::from_errno("cannot connect to QMP socket", socket);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  read_message();  // the greeting
  execute("qmp_capabilities");
}

nlohmann::json QmpClient::read_message() {
  for (;;) {
    auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) throw Error(fmt::format("QMP on {} sent malformed JSON: {}", socket_.string(), line));
      return j;
    }
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) throw Error(fmt::format("QMP on {} did not answer within 10 s", socket_.string()));
    char buf[4096];
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error(fmt::format("QMP connection {} closed", socket_.string()));
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

nlohmann::json QmpClient::execute(const std::string& command, const nlohmann::json& arguments) {
  nlohmann::json msg = {{"execute", command}};
  if (!arguments.is_null()) msg["arguments"] = arguments;
  std::string line = msg.dump() + "\n";
  if (::write(fd_.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    throw Error::from_errno("cannot write to QMP socket", socket_);
  for (;;) {
    auto j = read_message();
    if (j.contains("event")) continue;
    if (j.contains("error"))
      throw Error(fmt::format("QMP {} failed: {}", command, j["error"].value("desc", j["error"].dump())));
    if (j.contains("return")) return j["return"];
  }
}

} // namespace qb::qemu
