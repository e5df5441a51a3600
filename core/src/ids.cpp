#include "calgate/core/ids.hpp"

#include <botan/system_rng.h>

#include <array>
#include <cstdint>

namespace calgate::core {
namespace {

template <std::size_t N>
std::array<std::uint8_t, N> randomBytes() {
  std::array<std::uint8_t, N> bytes{};
  Botan::system_rng().randomize(bytes.data(), bytes.size());
  return bytes;
}

// Encodes bits MSB-first in groups of `bitsPerChar`, without padding.
template <std::size_t N>
std::string encodeBits(const std::array<std::uint8_t, N>& bytes, std::string_view alphabet,
                       unsigned bitsPerChar) {
  std::string out;
  unsigned buffer = 0;
  unsigned bits = 0;
  const unsigned mask = (1u << bitsPerChar) - 1;
  for (std::uint8_t byte : bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= bitsPerChar) {
      bits -= bitsPerChar;
      out.push_back(alphabet[(buffer >> bits) & mask]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(buffer << (bitsPerChar - bits)) & mask]);
  return out;
}

constexpr std::string_view kBase32 = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

}  // namespace

std::string newId(std::string_view prefix) {
  std::string id(prefix);
  id += '_';
  id += encodeBits(randomBytes<16>(), kBase32, 5);
  return id;
}

std::string newSecret(std::string_view prefix) {
  std::string secret(prefix);
  secret += '_';
  secret += encodeBits(randomBytes<32>(), kBase64Url, 6);
  return secret;
}

}  // namespace calgate::core
