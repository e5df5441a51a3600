#pragma once
/// The OAuth 2.0 client (RFC 6749) of a confidential web client: the authorization URL with PKCE
/// (RFC 7636, S256 only) and an OpenID Connect nonce, the code exchange and refresh at the token
/// endpoint, revocation (RFC 7009). Client authentication is client_secret_post. No storage, no
/// server: the caller keeps state, verifier and nonce until the callback, vaults the tokens and
/// serves the redirect URI. Stateless and thread-safe (Botan's system RNG; the HttpClient decides
/// how concurrent requests are served).
///
/// Secrets (client secret, codes, verifiers, tokens) never appear in an error message; the
/// provider's error_description is quoted only with every secret of the request blanked out.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/oauth/discovery.hpp"
#include "calgate/providers/http/curl_http_client.hpp"
#include "calgate/providers/http/http_client.hpp"

#include <botan/secmem.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace calgate::oauth {

/// Memory that is wiped when freed.
using Secret = Botan::secure_vector<char>;

struct ClientConfig {
  std::string clientId;
  Secret clientSecret;              ///< sent in the form (client_secret_post); empty: not sent (a public client)
  std::string redirectUri;
  std::vector<std::string> scopes;  ///< "openid" among them for an id_token
  Endpoints endpoints;
  /// Added to the authorization URL after the protocol's own, e.g. Google's access_type=offline
  /// and prompt=consent. May not repeat a parameter startAuthorization() sets itself.
  std::vector<std::pair<std::string, std::string>> extraAuthorizationParams;
};

/// What the caller keeps until the callback: it compares `state`, sends `codeVerifier` with the
/// code and checks the id_token's `nonce`.
struct AuthorizationStart {
  std::string url;
  std::string state;
  Secret codeVerifier;
  std::string nonce;
};

/// The authorization URL: endpoints.authorization (its own query kept) with response_type=code,
/// client_id, redirect_uri, scope (the scopes joined by spaces), state, nonce, code_challenge,
/// code_challenge_method=S256 and then the extra parameters, form-encoded. state, nonce and the
/// verifier are 32 bytes of Botan's system RNG each, base64url without padding (43 characters);
/// code_challenge = base64url(SHA-256(verifier)).
/// Errors: Invalid for an empty authorization endpoint, client id or redirect URI, an endpoint with
/// a fragment, or an extra parameter that repeats one of the protocol's own.
core::Result<AuthorizationStart> startAuthorization(const ClientConfig& client);

/// A token endpoint's answer.
struct TokenSet {
  Secret accessToken;
  Secret refreshToken;       ///< empty when the provider sent none (a refresh that does not rotate)
  long long expiresAt = 0;   ///< unix seconds: now + expires_in (3600 when the provider sent none)
  std::string scope;         ///< as the provider sent it; empty when it sent none (RFC 6749 §5.1: as asked)
  std::string tokenType;     ///< "Bearer" (as the provider spelled it)
  std::string idToken;       ///< empty when none; verify it with verifyIdToken() before trusting it
};

/// Token endpoint calls (authorization_code and refresh_token grants), client_secret_post.
/// Success is HTTP 200 with a JSON object of at most 64 KiB holding a non-empty string
/// access_token and token_type Bearer (any case); expires_in, when present, a positive integer;
/// refresh_token, scope and id_token, when present, strings. Unknown members are ignored.
/// Errors:
/// - Unauthorized, cause InvalidGrant: the provider answered invalid_grant (code used, expired or
///   not this verifier's; refresh token expired, revoked or already rotated away): reconnect.
/// - Unauthorized: invalid_client, or a 401 without an error object.
/// - Invalid: any other 4xx (its error code in the message), a malformed success answer, a 3xx
///   (redirects are not followed; see httpClientOptions()), an answer from another URL than the
///   endpoint (the HttpClient followed a redirect), a token endpoint that is empty.
/// - RateLimited / Unavailable: 429 and 5xx, as providers::statusError.
/// - the HttpClient's transport errors.
core::Result<TokenSet> exchangeCode(providers::HttpClient& http, const ClientConfig& client, const std::string& code,
                                    const Secret& codeVerifier, const core::Clock& clock);
core::Result<TokenSet> refresh(providers::HttpClient& http, const ClientConfig& client, const Secret& refreshToken,
                               const core::Clock& clock);

/// RFC 7009 revocation of `token` (tokenTypeHint "refresh_token" or "access_token"; empty: none
/// sent), client_secret_post. HTTP 200 is success, also for a token the provider no longer knows.
/// Errors: Invalid when the provider has no revocation endpoint; otherwise as the token calls
/// (without InvalidGrant, which revocation does not answer; Retry-After dates read the system clock).
core::Result<void> revoke(providers::HttpClient& http, const ClientConfig& client, const Secret& token,
                          std::string_view tokenTypeHint);

/// Options for the CurlHttpClient these calls go through. CurlHttpClient follows redirects itself
/// and keeps a POST's method and body on 301/302/307/308, to any site: a redirected token request
/// would carry the client secret, code, verifier or refresh token to the redirect target. These
/// options follow none (maxRedirects 0: a 3xx with a Location fails with Invalid before anything is
/// sent again). `allowInsecureLoopback` allows plain http to loopback (tests only).
providers::HttpClientOptions httpClientOptions(bool allowInsecureLoopback);

}  // namespace calgate::oauth
