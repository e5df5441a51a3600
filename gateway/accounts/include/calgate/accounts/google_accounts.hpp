#pragma once
/// Google accounts: the operator's OAuth client (config section `google`), the entry
/// OAuthConnections offers for it (the seed's scopes: openid, email, calendar.calendarlist.readonly
/// and calendar.events, never auth/calendar; access_type=offline and prompt=consent so a refresh
/// token always comes), and the adapter of a connected account, whose access tokens come from the
/// TokenBroker. Thread-safe as the parts it joins.

#include "calgate/accounts/oauth_connections.hpp"
#include "calgate/accounts/provider_registry.hpp"
#include "calgate/accounts/token_broker.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace calgate::accounts {

struct GoogleConfig {
  std::string clientId;                     ///< the OAuth client's id; empty: Google accounts are not offered
  std::filesystem::path clientSecretFile;   ///< a file holding the client secret (one line)
  std::string issuer = "https://accounts.google.com";
  std::string apiRoot = "https://www.googleapis.com/";
  /// Plain http to loopback for issuer and API (the contract fake in tests); never in production.
  bool allowInsecureLoopback = false;
};

/// The scopes calgate asks Google for.
const std::vector<std::string>& googleScopes();

/// The client secret from `config.clientSecretFile`: Invalid when the file is missing, empty, or
/// readable by group or others (like the vault's key file).
core::Result<oauth::Secret> readGoogleClientSecret(const GoogleConfig& config);

/// The OAuth entry for Google: the issuer's endpoints (OpenID discovery through `http`), the client,
/// `redirectUri` (<public_url>/oauth/callback), and calendar discovery with the fresh access token.
core::Result<OAuthProvider> googleOAuthProvider(const GoogleConfig& config, oauth::Secret clientSecret,
                                                const std::string& redirectUri, providers::HttpClient& http);

/// Offers Google sign-ins through `connections` when `config` names a client: false when it does
/// not. Invalid for a configuration mistake (no `publicUrl` for the redirect URI, a secret file
/// others can read or that holds nothing, an issuer URL calgate does not request); the issuer's
/// discovery errors as they are (Unavailable, Timeout...) otherwise.
core::Result<bool> offerGoogle(const GoogleConfig& config, const std::string& publicUrl, providers::HttpClient& http,
                               OAuthConnections& connections);

/// The adapter for a connected Google account, with its own HTTP client and the broker's tokens.
core::Result<std::unique_ptr<providers::Provider>> openGoogle(const Account& account, TokenBroker& broker,
                                                              const GoogleConfig& config,
                                                              const ProviderEnvironment& environment);

}  // namespace calgate::accounts
