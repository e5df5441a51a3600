#pragma once
/// Signing in to the portal with Google or Microsoft (OpenID Connect through calgate's own OAuth
/// clients - the ones that connect accounts - with the identity scopes only: no calendar access
/// and no refresh token are asked for). Two steps:
/// - begin(): the provider's authorization URL (PKCE S256, state, nonce) and a browser secret the
///   gateway sets as a cookie; the state's hash, the sealed verifier and the nonce are stored,
///   single use, for `ttl`.
/// - complete(): the redirect back (the same /oauth/callback as connecting an account; owns()
///   tells them apart). The state is consumed first (single use, expiry, the same browser), then
///   the code is exchanged and the identity proven (accounts::proveSignIn). Only an address whose
///   mailbox the provider manages signs in: a Google Workspace account or a Gmail address (not a
///   consumer Google account made with some other address: that address may have changed hands
///   since), a Microsoft work account of its own tenant (not a guest). The result is the address
///   and whether an organisation controls it (a member identity).
/// Which calgate user that is, and whether one may be created, is the caller's decision.
/// Thread-safe.

#include "calgate/accounts/oauth_connections.hpp"
#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"
#include "calgate/vault/vault.hpp"

#include <chrono>
#include <map>
#include <string>

namespace calgate::portal {

struct SignInStart {
  std::string url;            ///< where to send the browser
  std::string browserSecret;  ///< give it to that browser (HttpOnly cookie); complete() wants it back
};

struct SignedIn {
  model::ProviderKind provider = model::ProviderKind::Google;
  std::string email;         ///< the proven address, lower case
  std::string memberDomain;  ///< a domain whose organisation controls the account ("" if none)
};

class OidcSignIn {
 public:
  /// `connections` supplies the providers' client configurations (and says which are offered).
  OidcSignIn(store::Database& db, vault::Vault& vault, const accounts::OAuthConnections& connections,
             providers::HttpClient& http, const core::Clock& clock, std::chrono::seconds ttl = std::chrono::minutes(10));

  bool offers(model::ProviderKind kind) const;
  /// NotFound: the provider is not offered. Store and vault errors.
  core::Result<SignInStart> begin(model::ProviderKind kind);
  /// The callback's `state` is one of a sign-in's (not an account connection's). Store errors.
  core::Result<bool> owns(const std::string& state);
  /// `query`: the callback's parameters. Invalid: unknown, used or expired state, the provider's
  /// error (access_denied: consent denied), no code, nothing proven, an address the provider does not
/// manage; Unauthorized: another browser,
  /// a refused code or ID token; transport and store errors. Nothing is stored by any outcome.
  core::Result<SignedIn> complete(const std::map<std::string, std::string>& query, const std::string& browserSecret);

 private:
  store::Database& db_;
  vault::Vault& vault_;
  const accounts::OAuthConnections& connections_;
  providers::HttpClient& http_;
  const core::Clock& clock_;
  std::chrono::seconds ttl_;
};

/// The client configuration of a sign-in: `client` with the identity scopes only (openid, email,
/// profile) and none of its extra parameters (offline access, consent, prompts). Pure.
oauth::ClientConfig signInClient(const oauth::ClientConfig& client);

}  // namespace calgate::portal
