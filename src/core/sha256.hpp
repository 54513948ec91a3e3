#pragma once
// SHA-256 through OpenSSL's EVP interface (uses the CPU's SHA instructions).
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace qb {

using Digest = std::array<std::uint8_t, 32>;

std::string to_hex(const Digest& d);

class Sha256 {
public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(const void* data, std::size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  Digest finish();  // also resets for reuse

private:
  evp_md_ctx_st* ctx_;
};

Digest sha256(std::string_view data);

} // namespace qb
