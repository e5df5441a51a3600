#include "calgate/core/hash.hpp"

#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/mac.h>
#include <botan/mem_ops.h>

#include <cstdint>

namespace calgate::core {

std::string sha256Hex(std::string_view data) {
  auto hash = Botan::HashFunction::create_or_throw("SHA-256");
  hash->update(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  return Botan::hex_encode(hash->final(), /*uppercase=*/false);
}

std::string hmacSha256Hex(std::string_view key, std::string_view data) {
  auto mac = Botan::MessageAuthenticationCode::create_or_throw("HMAC(SHA-256)");
  mac->set_key(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
  mac->update(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  return Botan::hex_encode(mac->final(), /*uppercase=*/false);
}

std::string keyedHash(std::string_view key, std::string_view purpose, std::string_view data) {
  return "k1:" + hmacSha256Hex(key, std::string(purpose) + "\n" + std::string(data));
}

bool constantTimeEquals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  return Botan::constant_time_compare(reinterpret_cast<const std::uint8_t*>(a.data()),
                                      reinterpret_cast<const std::uint8_t*>(b.data()), a.size());
}

}  // namespace calgate::core
