#include "calgate/feeds/pin_hash.hpp"

#include <botan/base64.h>
#include <botan/mem_ops.h>
#include <botan/scrypt.h>
#include <botan/system_rng.h>

#include <cstdlib>
#include <vector>

namespace calgate::feeds {
namespace {

constexpr std::size_t kN = 16384, kR = 8, kP = 1, kSaltBytes = 16, kHashBytes = 32;

std::vector<std::uint8_t> derive(std::string_view pin, const std::vector<std::uint8_t>& salt, std::size_t n,
                                 std::size_t r, std::size_t p) {
  std::vector<std::uint8_t> out(kHashBytes);
  Botan::scrypt(out.data(), out.size(), pin.data(), pin.size(), salt.data(), salt.size(), n, r, p);
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto end = s.find(sep, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

}  // namespace

std::string hashPin(std::string_view pin) {
  std::vector<std::uint8_t> salt(kSaltBytes);
  Botan::System_RNG().randomize(salt.data(), salt.size());
  const auto hash = derive(pin, salt, kN, kR, kP);
  return "scrypt$" + std::to_string(kN) + "$" + std::to_string(kR) + "$" + std::to_string(kP) + "$" +
         Botan::base64_encode(salt) + "$" + Botan::base64_encode(hash);
}

bool verifyPin(std::string_view pin, std::string_view stored) {
  const auto parts = split(stored, '$');
  if (parts.size() != 6 || parts[0] != "scrypt") return false;
  const auto n = std::strtoull(std::string(parts[1]).c_str(), nullptr, 10);
  const auto r = std::strtoull(std::string(parts[2]).c_str(), nullptr, 10);
  const auto p = std::strtoull(std::string(parts[3]).c_str(), nullptr, 10);
  // Parameters come from our own database, but bound them so a corrupted row cannot exhaust memory.
  if (n < 1024 || n > (1u << 20) || (n & (n - 1)) != 0 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  try {
    const auto saltVec = Botan::base64_decode(std::string(parts[4]));
    const auto expectVec = Botan::base64_decode(std::string(parts[5]));
    std::vector<std::uint8_t> salt(saltVec.begin(), saltVec.end());
    if (salt.empty() || expectVec.size() != kHashBytes) return false;
    const auto got = derive(pin, salt, n, r, p);
    return Botan::constant_time_compare(got.data(), expectVec.data(), kHashBytes);
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace calgate::feeds
