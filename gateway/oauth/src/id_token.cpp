// id_token verification (OIDC Core §3.1.3.7; compact JWS, RFC 7515; RS256 and ES256, RFC 7518 §3).
#include "calgate/oauth/id_token.hpp"

#include "calgate/oauth/discovery.hpp"

#include "wire.hpp"

#include <botan/exceptn.h>
#include <botan/pubkey.h>

#include <algorithm>
#include <cmath>

namespace calgate::oauth {
namespace {

constexpr std::size_t kMaxIdToken = 64 * 1024;

std::unexpected<core::Error> rejected(std::string_view check) {
  return core::fail(core::ErrorCode::Unauthorized, "id_token refused: " + std::string(check),
                    core::Cause::IdTokenRejected);
}

struct Jws {
  nlohmann::json header, claims;
  std::string signingInput;
  std::vector<std::uint8_t> signature;
};

core::Result<nlohmann::json> decodedObject(std::string_view part, std::string_view name) {
  const auto bytes = detail::fromBase64url(part);
  if (!bytes) return rejected(std::string(name) + " is not base64url");
  auto j = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return rejected(std::string(name) + " is not a JSON object");
  return j;
}

core::Result<Jws> split(std::string_view token) {
  if (token.size() > kMaxIdToken) return rejected("larger than 64 KiB");
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return rejected("not a compact JWS (three parts separated by dots)");
  }
  Jws jws;
  auto header = decodedObject(token.substr(0, first), "the header");
  if (!header) return std::unexpected(header.error());
  auto claims = decodedObject(token.substr(first + 1, second - first - 1), "the payload");
  if (!claims) return std::unexpected(claims.error());
  auto signature = detail::fromBase64url(token.substr(second + 1));
  if (!signature) return rejected("the signature is not base64url");
  jws.header = std::move(*header);
  jws.claims = std::move(*claims);
  jws.signingInput = std::string(token.substr(0, second));
  jws.signature = std::move(*signature);
  return jws;
}

core::Result<std::string> algorithm(const nlohmann::json& header) {
  const auto alg = detail::stringMember(header, "alg");
  if (!alg) return rejected("alg is missing");
  if (*alg != "RS256" && *alg != "ES256") {
    return rejected("alg \"" + detail::printable(*alg, 16) + "\" is not accepted (RS256 or ES256 only)");
  }
  if (header.contains("crit")) return rejected("crit: critical header parameters are not supported");
  return *alg;
}

core::Result<const Jwk*> selectKey(const Jwks& jwks, const nlohmann::json& header, const std::string& alg) {
  const auto kid = detail::stringMember(header, "kid");
  if (!kid) {
    if (jwks.keys.size() != 1) return rejected("kid: the id_token names no key and the JWKS has several");
    if (jwks.keys.front().alg != alg) return rejected("kid: the JWKS's only key is not an " + alg + " key");
    return &jwks.keys.front();
  }
  bool known = false;
  for (const auto& key : jwks.keys) {
    if (key.kid != *kid) continue;
    known = true;
    if (key.alg == alg) return &key;
  }
  const std::string named = "kid \"" + detail::printable(*kid, 64) + "\"";
  return rejected(known ? named + " is not an " + alg + " key" : named + " is not in the provider's JWKS");
}

bool signatureValid(const Jwk& key, const std::string& alg, const Jws& jws) {
  if (!key.key) return false;
  const auto* input = reinterpret_cast<const std::uint8_t*>(jws.signingInput.data());
  try {
    if (alg == "RS256") {
      Botan::PK_Verifier verifier(*key.key, "EMSA3(SHA-256)");
      return verifier.verify_message(input, jws.signingInput.size(), jws.signature.data(), jws.signature.size());
    }
    if (jws.signature.size() != 64) return false;  // ES256: r || s, 32 bytes each
    Botan::PK_Verifier verifier(*key.key, "EMSA1(SHA-256)", Botan::IEEE_1363);
    return verifier.verify_message(input, jws.signingInput.size(), jws.signature.data(), jws.signature.size());
  } catch (const Botan::Exception&) {
    return false;
  }
}

// A NumericDate (seconds, possibly fractional); nullopt when absent or not a finite number.
std::optional<long long> numericDate(const nlohmann::json& claims, std::string_view name) {
  const auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  if (it->is_number_unsigned()) return static_cast<long long>(std::min<unsigned long long>(it->get<unsigned long long>(), 1ULL << 62));
  if (it->is_number_integer()) return it->get<long long>();
  if (it->is_number_float() && std::isfinite(it->get<double>()) && std::fabs(it->get<double>()) < 4e18) {
    return static_cast<long long>(std::floor(it->get<double>()));
  }
  return std::nullopt;
}

core::Result<void> checkAudience(const nlohmann::json& claims, const std::string& clientId) {
  const auto aud = claims.find("aud");
  std::vector<std::string> audiences;
  if (aud != claims.end() && aud->is_string()) audiences.push_back(aud->get<std::string>());
  if (aud != claims.end() && aud->is_array()) {
    for (const auto& a : *aud) {
      if (!a.is_string()) return rejected("aud holds a value that is not a string");
      audiences.push_back(a.get<std::string>());
    }
  }
  if (audiences.empty()) return rejected("aud is missing");
  if (std::find(audiences.begin(), audiences.end(), clientId) == audiences.end()) {
    return rejected("aud does not contain this client");
  }
  const auto azp = claims.find("azp");
  if (audiences.size() > 1 && azp == claims.end()) return rejected("azp is missing while aud has several values");
  if (azp != claims.end() && *azp != clientId) return rejected("azp is not this client");
  return {};
}

core::Result<void> checkTimes(const nlohmann::json& claims, long long now, long long skew) {
  const auto exp = numericDate(claims, "exp");
  if (!exp) return rejected("exp is missing or not a number");
  if (*exp <= now - skew) return rejected("exp: the id_token has expired");
  const auto iat = numericDate(claims, "iat");
  if (!iat) return rejected("iat is missing or not a number");
  if (*iat > now + skew) return rejected("iat: the id_token was issued in the future");
  if (claims.contains("nbf")) {
    const auto nbf = numericDate(claims, "nbf");
    if (!nbf || *nbf > now + skew) return rejected("nbf: the id_token is not valid yet");
  }
  return {};
}

Identity identity(const nlohmann::json& claims) {
  Identity id;
  id.issuer = detail::stringMember(claims, "iss").value_or("");
  id.subject = detail::stringMember(claims, "sub").value_or("");
  id.email = detail::stringMember(claims, "email").value_or("");
  const auto verified = claims.find("email_verified");
  id.emailVerified = verified != claims.end() && (*verified == true || *verified == "true");
  id.hostedDomain = detail::stringMember(claims, "hd").value_or("");
  id.tenantId = detail::stringMember(claims, "tid").value_or("");
  id.identityProvider = detail::stringMember(claims, "idp").value_or("");
  id.preferredUsername = detail::stringMember(claims, "preferred_username").value_or("");
  id.name = detail::stringMember(claims, "name").value_or("");
  return id;
}

/// "9188040d-6c67-4c5b-b112-36a304b66dad": 8-4-4-4-12 hex digits.
bool isGuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

core::Result<Identity> checkClaims(const nlohmann::json& claims, const std::string& issuer, const std::string& clientId,
                                   const std::string& expectedNonce, long long now, long long skew) {
  if (isTenantTemplate(issuer)) {
    // a multi-tenant authority: iss must be the template filled in with the token's own tid
    const auto tid = detail::stringMember(claims, "tid");
    if (!tid || !isGuid(*tid)) return rejected("tid is missing or not a tenant id");
    if (detail::stringMember(claims, "iss") != issuerOfTenant(issuer, *tid)) return rejected("iss is not the issuer of the token's tenant");
  } else if (detail::stringMember(claims, "iss") != issuer) {
    return rejected("iss is not the expected issuer");
  }
  if (auto ok = checkAudience(claims, clientId); !ok) return std::unexpected(ok.error());
  if (auto ok = checkTimes(claims, now, skew); !ok) return std::unexpected(ok.error());
  if (expectedNonce.empty()) return rejected("nonce: no nonce was expected, so none can match");
  const auto nonce = detail::stringMember(claims, "nonce");
  if (!nonce || !detail::sameBytes(*nonce, expectedNonce)) return rejected("nonce does not match the one sent");
  const auto sub = detail::stringMember(claims, "sub");
  if (!sub || sub->empty()) return rejected("sub is missing");
  return identity(claims);
}

}  // namespace

core::Result<Identity> verifyIdToken(std::string_view idToken, const Jwks& jwks, const std::string& issuer,
                                     const std::string& clientId, const std::string& expectedNonce,
                                     const core::Clock& clock, std::chrono::seconds skew) {
  auto jws = split(idToken);
  if (!jws) return std::unexpected(jws.error());
  auto alg = algorithm(jws->header);
  if (!alg) return std::unexpected(alg.error());
  auto key = selectKey(jwks, jws->header, *alg);
  if (!key) return std::unexpected(key.error());
  if (jws->signature.empty() || !signatureValid(**key, *alg, *jws)) return rejected("the signature does not verify");
  return checkClaims(jws->claims, issuer, clientId, expectedNonce, clock.nowUnixSeconds(),
                     static_cast<long long>(skew.count()));
}

}  // namespace calgate::oauth
