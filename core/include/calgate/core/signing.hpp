#pragma once
/// Ed25519 signatures (Botan underneath; no Botan types in this header): a key made from a 32-byte
/// seed (kept sealed in the vault by its owner), its public key as base64 of the 32 raw bytes, and
/// signatures as base64 of the 64 raw bytes. Verification needs only the public key. Keys are
/// immutable after construction: thread-safe.

#include "calgate/core/error.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace calgate::core {

class SigningKey {
 public:
  /// Invalid unless `seed` is exactly 32 bytes.
  static Result<SigningKey> fromSeed(std::string_view seed);
  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;
  ~SigningKey();

  /// Base64 of the 32-byte public key: what a verifier pins.
  const std::string& publicKey() const { return publicKey_; }
  /// The first 16 hex characters of the public key's SHA-256: names the key in signed records.
  const std::string& keyId() const { return keyId_; }
  /// Base64 of the Ed25519 signature of `message`.
  std::string sign(std::string_view message) const;

 private:
  struct Impl;
  explicit SigningKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string publicKey_, keyId_;
};

/// Whether `signature` (base64) is `publicKey`'s (base64) Ed25519 signature of `message`. False
/// for malformed keys or signatures, never an exception.
bool verifySignature(std::string_view publicKey, std::string_view message, std::string_view signature) noexcept;

/// The key id of a public key (base64), as SigningKey::keyId; "" when it is not base64 of 32 bytes.
std::string keyIdOf(std::string_view publicKey);

}  // namespace calgate::core
