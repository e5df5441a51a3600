#pragma once
/// AES-256-GCM sealing with a self-describing blob, the vault's cryptographic core (no I/O).
///
/// Blob layout (then base64 for storage):
///   version (1 byte, = 1) | key id length (1 byte) | key id (ASCII) | nonce (12 bytes) |
///   ciphertext | GCM tag (16 bytes)
/// The associated data authenticated with it is the caller's context (e.g. user id + provider +
/// account id) together with the version and key id, so neither the header nor the row the blob
/// belongs to can be changed without failing decryption.

#include "calgate/core/error.hpp"

#include <botan/secmem.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace calgate::vault {

using SecretBytes = Botan::secure_vector<std::uint8_t>;

inline constexpr std::size_t kKeyBytes = 32;    // AES-256
inline constexpr std::size_t kNonceBytes = 12;  // 96-bit GCM nonce, fresh per encryption
inline constexpr std::size_t kTagBytes = 16;
inline constexpr std::uint8_t kBlobVersion = 1;

/// Encrypts `plaintext` under `key` (32 bytes) with a fresh random nonce. Invalid for a bad key
/// size or key id (1-64 printable ASCII characters).
core::Result<std::string> seal(const SecretBytes& key, std::string_view keyId, const SecretBytes& plaintext,
                               std::string_view context);

/// The key id a blob says it was sealed with (Invalid if the blob is malformed).
core::Result<std::string> blobKeyId(std::string_view blob);

/// Decrypts a blob made by seal() with the same key and context. Every failure (truncated or
/// malformed blob, unknown version, tampered bytes, wrong key, other context) is Invalid with a
/// message that names what failed but never any secret; no partial plaintext is ever returned.
core::Result<SecretBytes> open(const SecretBytes& key, std::string_view blob, std::string_view context);

/// Length-prefixed concatenation of parts, so that ("ab","c") and ("a","bc") differ.
std::string contextOf(std::initializer_list<std::string_view> parts);

}  // namespace calgate::vault
