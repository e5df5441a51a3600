// JWK Sets (RFC 7517, RFC 7518 §6): RSA and EC P-256 public keys for signatures.
#include "calgate/oauth/id_token.hpp"

#include "wire.hpp"

#include <botan/bigint.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/exceptn.h>
#include <botan/rsa.h>

#include <algorithm>
#include <optional>

namespace calgate::oauth {
namespace {

using core::ErrorCode;

constexpr std::size_t kMaxJwks = 256 * 1024;

std::unexpected<core::Error> malformed(std::string_view why) {
  return core::fail(ErrorCode::Invalid, "the provider's JWK Set: " + std::string(why));
}

// A base64url member decoded to an unsigned big-endian integer's bytes.
core::Result<std::vector<std::uint8_t>> bytesMember(const nlohmann::json& jwk, std::string_view name) {
  const auto text = detail::stringMember(jwk, name);
  auto bytes = text ? detail::fromBase64url(*text) : std::nullopt;
  if (!bytes || bytes->empty()) return malformed("a key's " + std::string(name) + " is missing or not base64url");
  return std::move(*bytes);
}

Botan::BigInt integer(const std::vector<std::uint8_t>& bytes) { return Botan::BigInt(bytes.data(), bytes.size()); }

// nullopt: a key we do not use (too small); an error: a key that is malformed.
core::Result<std::optional<Jwk>> rsaKey(const nlohmann::json& jwk) {
  auto n = bytesMember(jwk, "n");
  if (!n) return std::unexpected(n.error());
  auto e = bytesMember(jwk, "e");
  if (!e) return std::unexpected(e.error());
  const Botan::BigInt modulus = integer(*n), exponent = integer(*e);
  if (modulus.bits() < 2048) return std::optional<Jwk>();
  if (modulus.bits() > 8192 || e->size() > 8 || exponent < 3 || exponent.is_even() || modulus.is_even()) {
    return malformed("an RSA key with an unusable modulus or exponent");
  }
  Jwk key;
  key.alg = "RS256";
  key.key = std::make_shared<Botan::RSA_PublicKey>(modulus, exponent);
  return std::optional<Jwk>(std::move(key));
}

core::Result<std::optional<Jwk>> p256Key(const nlohmann::json& jwk) {
  if (detail::stringMember(jwk, "crv") != "P-256") return std::optional<Jwk>();
  auto x = bytesMember(jwk, "x");
  if (!x) return std::unexpected(x.error());
  auto y = bytesMember(jwk, "y");
  if (!y) return std::unexpected(y.error());
  if (x->size() != 32 || y->size() != 32) return malformed("a P-256 key whose x or y is not 32 bytes");
  static const Botan::EC_Group group("secp256r1");
  const Botan::BigInt bx = integer(*x), by = integer(*y);
  if (bx >= group.get_p() || by >= group.get_p()) return malformed("a P-256 key off the curve");
  const Botan::PointGFp point = group.point(bx, by);
  if (!group.verify_public_element(point)) return malformed("a P-256 key off the curve");
  Jwk key;
  key.alg = "ES256";
  key.key = std::make_shared<Botan::ECDSA_PublicKey>(group, point);
  return std::optional<Jwk>(std::move(key));
}

// Whether a key is meant for verifying signatures with the algorithm its type gives.
bool forSignatures(const nlohmann::json& jwk, std::string_view alg) {
  if (const auto use = jwk.find("use"); use != jwk.end() && *use != "sig") return false;
  if (const auto a = jwk.find("alg"); a != jwk.end() && *a != alg) return false;
  if (const auto ops = jwk.find("key_ops"); ops != jwk.end()) {
    if (!ops->is_array() || std::none_of(ops->begin(), ops->end(), [](const auto& op) { return op == "verify"; })) {
      return false;
    }
  }
  return true;
}

core::Result<std::optional<Jwk>> readKey(const nlohmann::json& jwk) {
  if (!jwk.is_object()) return malformed("a key that is not a JSON object");
  const auto kty = detail::stringMember(jwk, "kty");
  core::Result<std::optional<Jwk>> key = std::optional<Jwk>();
  try {
    if (kty == "RSA" && forSignatures(jwk, "RS256")) key = rsaKey(jwk);
    if (kty == "EC" && forSignatures(jwk, "ES256")) key = p256Key(jwk);
  } catch (const Botan::Exception&) {
    return malformed("a key Botan refuses");
  }
  if (key && *key) (*key)->kid = detail::stringMember(jwk, "kid").value_or("");
  return key;
}

}  // namespace

core::Result<Jwks> parseJwks(std::string_view json) {
  auto doc = detail::jsonObject(json, kMaxJwks, "the provider's JWK Set");
  if (!doc) return std::unexpected(doc.error());
  const auto keys = doc->find("keys");
  if (keys == doc->end() || !keys->is_array()) return malformed("no \"keys\" array");
  Jwks set;
  for (const auto& entry : *keys) {
    auto key = readKey(entry);
    if (!key) return std::unexpected(key.error());
    if (*key) set.keys.push_back(std::move(**key));
  }
  if (set.keys.empty()) return malformed("no RS256 or ES256 signing key");
  return set;
}

core::Result<Jwks> fetchJwks(providers::HttpClient& http, const std::string& uri) {
  providers::HttpRequest request;
  request.method = "GET";
  request.url = uri;
  request.headers.emplace_back("Accept", "application/json");
  auto response = http.send(request);
  if (!response) return std::unexpected(response.error());
  if (response->status != 200) {
    return std::unexpected(providers::statusError(*response, "the provider's JWK Set", core::systemClock()));
  }
  return parseJwks(response->body);
}

}  // namespace calgate::oauth
