#pragma once
/// OpenID Connect id_tokens: the provider's signing keys (a JWK Set, RFC 7517) and verification of
/// a compact JWS id_token (OIDC Core §3.1.3.7) signed RS256 or ES256 -- never "none", HS* or
/// anything else. Pure apart from fetchJwks; thread-safe (a Jwks is immutable once made and may be
/// shared between threads).

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/providers/http/http_client.hpp"

#include <botan/pk_keys.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace calgate::oauth {

/// One public signing key.
struct Jwk {
  std::string kid;  ///< may be empty
  std::string alg;  ///< "RS256" (RSA, 2048 to 8192 bits) or "ES256" (EC P-256)
  std::shared_ptr<const Botan::Public_Key> key;
};

/// The usable keys of a JWK Set.
struct Jwks {
  std::vector<Jwk> keys;
};

/// Reads a JWK Set: {"keys": [...]}, at most 256 KiB. Keeps the RSA keys (kty RSA, n, e) and the
/// EC P-256 keys (kty EC, crv P-256, x, y: a point on the curve) meant for signatures (use absent or
/// "sig") with alg absent or matching (RS256 / ES256); skips every other key (encryption keys, other
/// algorithms, RSA under 2048 bits). Errors: Invalid for a document that is not such an object, a
/// malformed RSA or P-256 key, or a set without one usable key.
core::Result<Jwks> parseJwks(std::string_view json);

/// GETs `uri` and parses it (parseJwks). Errors: parseJwks's; an unsuccessful status as
/// providers::statusError; the HttpClient's transport errors.
core::Result<Jwks> fetchJwks(providers::HttpClient& http, const std::string& uri);

/// Who signed in, from a verified id_token.
struct Identity {
  std::string issuer;
  std::string subject;            ///< sub: the stable account id at this issuer
  std::string email;              ///< empty when absent
  bool emailVerified = false;     ///< email_verified true (or "true")
  std::string hostedDomain;       ///< hd (Google Workspace)
  std::string tenantId;           ///< tid (Microsoft Entra)
  /// idp (Microsoft Entra): present when the identity provider that authenticated the subject is
  /// not the issuing tenant - a guest (B2B) or a personal account signed in to a work tenant.
  std::string identityProvider;
  std::string preferredUsername;  ///< preferred_username
  std::string name;
};

/// Verifies a compact JWS id_token (at most 64 KiB): header alg RS256 or ES256 and no crit; the key
/// by the header's kid (without a kid: the set's only key) and of the alg's type; the signature;
/// iss == `issuer` (for a tenant template, discovery.hpp: tid a GUID and iss the template filled in
/// with it, so a token of one tenant never passes as another's); aud (a string or an array) contains `clientId`, azp == `clientId` when aud has
/// several values or azp is present; exp > now - skew; iat present and not after now + skew; nonce
/// == `expectedNonce` (never satisfied by an empty expectedNonce); sub a non-empty string.
/// Errors: Unauthorized with cause IdTokenRejected and a message naming the check that failed
/// ("id_token refused: aud ..."); the message never holds the token or its parts.
core::Result<Identity> verifyIdToken(std::string_view idToken, const Jwks& jwks, const std::string& issuer,
                                     const std::string& clientId, const std::string& expectedNonce,
                                     const core::Clock& clock, std::chrono::seconds skew = std::chrono::seconds(120));

}  // namespace calgate::oauth
