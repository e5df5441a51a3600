#pragma once
/// Feed PINs are kept only as scrypt hashes: "scrypt$N$r$p$<salt b64>$<hash b64>" (N=2^14, r=8,
/// p=1, 16-byte random salt, 32-byte output), checked in constant time.

#include <string>
#include <string_view>

namespace calgate::feeds {

std::string hashPin(std::string_view pin);
/// False for a wrong PIN or a malformed stored hash.
bool verifyPin(std::string_view pin, std::string_view stored);

}  // namespace calgate::feeds
