#include "calgate/core/signing.hpp"

#include "calgate/core/hash.hpp"

#include <botan/base64.h>
#include <botan/ed25519.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>

#include <vector>

namespace calgate::core {
namespace {

std::vector<std::uint8_t> bytesOf(std::string_view s) { return {s.begin(), s.end()}; }

std::string rawOfBase64(std::string_view text) {
  const auto decoded = Botan::base64_decode(std::string(text));
  return {decoded.begin(), decoded.end()};
}

}  // namespace

struct SigningKey::Impl {
  Botan::Ed25519_PrivateKey key;
  explicit Impl(const Botan::secure_vector<std::uint8_t>& seed) : key(seed) {}
};

SigningKey::SigningKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  const auto& pub = impl_->key.get_public_key();
  publicKey_ = Botan::base64_encode(pub.data(), pub.size());
  keyId_ = sha256Hex(std::string(pub.begin(), pub.end())).substr(0, 16);
}
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;
SigningKey::~SigningKey() = default;

Result<SigningKey> SigningKey::fromSeed(std::string_view seed) {
  if (seed.size() != 32) return fail(ErrorCode::Invalid, "an Ed25519 seed is 32 bytes");
  Botan::secure_vector<std::uint8_t> bytes(seed.begin(), seed.end());
  return SigningKey(std::make_unique<Impl>(bytes));
}

std::string SigningKey::sign(std::string_view message) const {
  Botan::PK_Signer signer(impl_->key, Botan::system_rng(), "Pure");
  const auto signature = signer.sign_message(bytesOf(message), Botan::system_rng());
  return Botan::base64_encode(signature.data(), signature.size());
}

bool verifySignature(std::string_view publicKey, std::string_view message, std::string_view signature) noexcept {
  try {
    const std::string pub = rawOfBase64(publicKey);
    const std::string sig = rawOfBase64(signature);
    if (pub.size() != 32 || sig.size() != 64) return false;
    Botan::Ed25519_PublicKey key(reinterpret_cast<const std::uint8_t*>(pub.data()), pub.size());
    Botan::PK_Verifier verifier(key, "Pure");
    return verifier.verify_message(bytesOf(message), bytesOf(sig));
  } catch (const std::exception&) {
    return false;
  }
}

std::string keyIdOf(std::string_view publicKey) {
  try {
    const std::string pub = rawOfBase64(publicKey);
    return pub.size() == 32 ? sha256Hex(pub).substr(0, 16) : std::string();
  } catch (const std::exception&) {
    return {};
  }
}

}  // namespace calgate::core
