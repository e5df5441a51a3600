#pragma once
/// Microsoft 365 accounts: the operator's app registration (config section `microsoft`), the entry
/// OAuthConnections offers for it (the seed's scopes: openid, email, profile, offline_access and
/// Calendars.ReadWrite, delegated, on the `common` authority so work and school accounts of any
/// tenant sign in; its issuer is the {tenantid} template, oauth/discovery.hpp), and the Graph
/// adapter of a connected account, whose access tokens come from the TokenBroker. Thread-safe as
/// the parts it joins.

#include "calgate/accounts/oauth_connections.hpp"
#include "calgate/accounts/provider_registry.hpp"
#include "calgate/accounts/token_broker.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace calgate::accounts {

struct MicrosoftConfig {
  std::string clientId;                    ///< the app registration's id; empty: Microsoft 365 accounts are not offered
  std::filesystem::path clientSecretFile;  ///< a file holding the client secret (one line)
  /// The authority: Microsoft's multi-tenant one by default; a tenant's own
  /// (https://login.microsoftonline.com/<tenant id>/v2.0) limits sign-ins to that tenant.
  std::string issuer = "https://login.microsoftonline.com/common/v2.0";
  std::string apiRoot = "https://graph.microsoft.com/";
  /// Plain http to loopback for authority and API (the contract fake in tests); never in production.
  bool allowInsecureLoopback = false;
};

/// The scopes calgate asks Microsoft for.
const std::vector<std::string>& microsoftScopes();

/// The OAuth entry for Microsoft 365: the authority's endpoints (OpenID discovery through `http`),
/// the client, `redirectUri` (<public_url>/oauth/callback), and calendar discovery with the fresh
/// access token.
core::Result<OAuthProvider> microsoftOAuthProvider(const MicrosoftConfig& config, oauth::Secret clientSecret,
                                                   const std::string& redirectUri, providers::HttpClient& http);

/// Offers Microsoft 365 sign-ins through `connections` when `config` names a client: false when it
/// does not. Invalid for a configuration mistake (no `publicUrl`, a secret file others can read or
/// that holds nothing, an authority URL calgate does not request); the authority's discovery errors
/// as they are (Unavailable, Timeout...) otherwise.
core::Result<bool> offerMicrosoft(const MicrosoftConfig& config, const std::string& publicUrl, providers::HttpClient& http,
                                  OAuthConnections& connections);

/// The Graph adapter for a connected Microsoft 365 account, with its own HTTP client and the
/// broker's tokens.
core::Result<std::unique_ptr<providers::Provider>> openMicrosoft(const Account& account, TokenBroker& broker,
                                                                 const MicrosoftConfig& config,
                                                                 const ProviderEnvironment& environment);

}  // namespace calgate::accounts
