#pragma once
/// Hashing helpers (Botan underneath; no Botan types in this header).

#include <string>
#include <string_view>

namespace calgate::core {

/// Lower-case hex SHA-256 of the bytes of `data` (64 characters).
std::string sha256Hex(std::string_view data);

/// Lower-case hex HMAC-SHA-256 of `data` under `key` (64 characters).
std::string hmacSha256Hex(std::string_view key, std::string_view data);

/// A keyed hash for storage: "k1:" + hex HMAC-SHA-256 under `key` of `purpose`, a newline and
/// `data` (the purpose keeps one key's hashes of different things apart). Someone who reads the
/// database but not the key cannot confirm a guessed value offline.
std::string keyedHash(std::string_view key, std::string_view purpose, std::string_view data);

/// Compares two strings in time independent of where they differ (for secrets and MACs).
bool constantTimeEquals(std::string_view a, std::string_view b) noexcept;

}  // namespace calgate::core
