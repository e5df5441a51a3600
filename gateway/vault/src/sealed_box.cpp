#include "calgate/vault/sealed_box.hpp"

#include <botan/aead.h>
#include <botan/base64.h>
#include <botan/exceptn.h>
#include <botan/system_rng.h>

#include <algorithm>

namespace calgate::vault {
namespace {

using core::ErrorCode;
using core::fail;

bool validKeyId(std::string_view id) {
  return !id.empty() && id.size() <= 64 &&
         std::all_of(id.begin(), id.end(), [](unsigned char c) { return c > 0x20 && c < 0x7F; });
}

// Header fields bound into the associated data along with the caller's context.
std::string associatedData(std::uint8_t version, std::string_view keyId, std::string_view context) {
  return contextOf({"calgate-vault", std::string(1, static_cast<char>(version)), keyId, context});
}

struct Parsed {
  std::uint8_t version = 0;
  std::string keyId;
  std::vector<std::uint8_t> nonce;
  std::vector<std::uint8_t> sealed;  // ciphertext || tag
};

core::Result<Parsed> parse(std::string_view blob) {
  if (blob.size() > 64 * 1024) return fail(ErrorCode::Invalid, "sealed credential is implausibly large");
  std::vector<std::uint8_t> raw;
  try {
    const auto decoded = Botan::base64_decode(blob.data(), blob.size());
    raw.assign(decoded.begin(), decoded.end());
  } catch (const std::exception&) {
    return fail(ErrorCode::Invalid, "sealed credential is not valid base64");
  }
  if (raw.size() < 2) return fail(ErrorCode::Invalid, "sealed credential is truncated (no header)");
  Parsed p;
  p.version = raw[0];
  if (p.version != kBlobVersion) {
    return fail(ErrorCode::Invalid, "sealed credential has unknown format version " + std::to_string(p.version));
  }
  const std::size_t idLength = raw[1];
  if (raw.size() < 2 + idLength + kNonceBytes + kTagBytes) {
    return fail(ErrorCode::Invalid, "sealed credential is truncated");
  }
  p.keyId.assign(raw.begin() + 2, raw.begin() + 2 + static_cast<long>(idLength));
  if (!validKeyId(p.keyId)) return fail(ErrorCode::Invalid, "sealed credential has a malformed key id");
  const auto nonceStart = raw.begin() + 2 + static_cast<long>(idLength);
  p.nonce.assign(nonceStart, nonceStart + kNonceBytes);
  p.sealed.assign(nonceStart + kNonceBytes, raw.end());
  return p;
}

}  // namespace

std::string contextOf(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto part : parts) {
    out += std::to_string(part.size());
    out += ':';
    out += part;
    out += ';';
  }
  return out;
}

core::Result<std::string> seal(const SecretBytes& key, std::string_view keyId, const SecretBytes& plaintext,
                               std::string_view context) {
  if (key.size() != kKeyBytes) return fail(ErrorCode::Invalid, "vault key must be 32 bytes");
  if (!validKeyId(keyId)) return fail(ErrorCode::Invalid, "vault key id must be 1-64 printable ASCII characters");
  try {
    auto cipher = Botan::AEAD_Mode::create_or_throw("AES-256/GCM", Botan::ENCRYPTION);
    std::vector<std::uint8_t> nonce(kNonceBytes);
    Botan::system_rng().randomize(nonce.data(), nonce.size());
    cipher->set_key(key);
    const std::string ad = associatedData(kBlobVersion, keyId, context);
    cipher->set_associated_data(reinterpret_cast<const std::uint8_t*>(ad.data()), ad.size());
    cipher->start(nonce);
    SecretBytes buffer(plaintext.begin(), plaintext.end());
    cipher->finish(buffer);
    std::vector<std::uint8_t> blob;
    blob.reserve(2 + keyId.size() + nonce.size() + buffer.size());
    blob.push_back(kBlobVersion);
    blob.push_back(static_cast<std::uint8_t>(keyId.size()));
    blob.insert(blob.end(), keyId.begin(), keyId.end());
    blob.insert(blob.end(), nonce.begin(), nonce.end());
    blob.insert(blob.end(), buffer.begin(), buffer.end());  // ciphertext: not secret
    return Botan::base64_encode(blob);
  } catch (const std::exception& e) {
    return fail(ErrorCode::Internal, std::string("encryption failed: ") + e.what());
  }
}

core::Result<std::string> blobKeyId(std::string_view blob) {
  auto parsed = parse(blob);
  if (!parsed) return std::unexpected(parsed.error());
  return parsed->keyId;
}

core::Result<SecretBytes> open(const SecretBytes& key, std::string_view blob, std::string_view context) {
  if (key.size() != kKeyBytes) return fail(ErrorCode::Invalid, "vault key must be 32 bytes");
  auto parsed = parse(blob);
  if (!parsed) return std::unexpected(parsed.error());
  try {
    auto cipher = Botan::AEAD_Mode::create_or_throw("AES-256/GCM", Botan::DECRYPTION);
    cipher->set_key(key);
    const std::string ad = associatedData(parsed->version, parsed->keyId, context);
    cipher->set_associated_data(reinterpret_cast<const std::uint8_t*>(ad.data()), ad.size());
    cipher->start(parsed->nonce);
    SecretBytes buffer(parsed->sealed.begin(), parsed->sealed.end());
    cipher->finish(buffer);  // verifies the tag before anything is returned
    return buffer;
  } catch (const Botan::Invalid_Authentication_Tag&) {
    return fail(ErrorCode::Invalid,
                "sealed credential failed authentication (wrong key, tampered data, or it belongs to another account)");
  } catch (const std::exception& e) {
    return fail(ErrorCode::Invalid, std::string("sealed credential could not be decrypted: ") + e.what());
  }
}

}  // namespace calgate::vault
