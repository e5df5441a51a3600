#pragma once
/// Connecting a Google or Microsoft 365 account through OAuth 2.0 (authorization code + PKCE S256,
/// OpenID Connect for the identity). Three steps:
/// - begin(): for a user signed in to the API, a one-time start secret (the gateway turns it into
///   a link); the state (kept only as a hash), the sealed PKCE verifier and provider URL, and the
///   nonce are stored with the user, single use, for `stateTtl`.
/// - handoff(): the browser opens the start link: the sign-in is bound to that browser (a secret
///   the gateway sets as a cookie) and the browser is sent to the provider. Once only.
/// - complete(): the redirect back. The state is consumed first (single use, expiry, the same
///   browser); then the code is exchanged, the ID token verified (signature by the provider's JWKS,
///   issuer, audience, expiry, nonce), the identity proven (a verified email; Microsoft's UPN and
///   tenant), the refresh token required, and the provider's calendar discovery run. Only then is
///   anything stored: a new account, or - for the same identity of the same user - the existing
///   account re-authorised (new credential, identities, status active). On any failure nothing is
///   stored and the error says what to do.
/// The credential is {"refresh_token"} sealed by the vault and bound to the token endpoint's origin
/// (the account's server_url). Access tokens are never stored (TokenBroker keeps them in memory).
/// Thread-safe.

#include "calgate/accounts/account_store.hpp"
#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/oauth/client.hpp"
#include "calgate/providers/http/http_client.hpp"
#include "calgate/providers/provider.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

namespace calgate::accounts {

/// Lists an account's calendars with a fresh access token (the adapter's discovery).
using OAuthCalendarDiscovery =
    std::function<core::Result<std::vector<providers::CalendarInfo>>(const oauth::Secret& accessToken)>;

struct OAuthProvider {
  model::ProviderKind kind = model::ProviderKind::Google;
  oauth::ClientConfig client;  ///< endpoints (discovered), scopes, redirect URI
  OAuthCalendarDiscovery calendars;
};

struct OAuthStart {
  std::string handoff;    ///< one-time secret of the start link (handoff() takes it)
  long long expiresAt = 0;
};

struct OAuthHandoff {
  std::string providerUrl;    ///< where to send the browser
  std::string browserSecret;  ///< give it to that browser (HttpOnly cookie); complete() wants it back
};

struct OAuthConnected {
  Account account;
  std::vector<providers::CalendarInfo> calendars;
  bool reauthorised = false;  ///< an existing account of the same identity got a new credential
};

/// Who signed in at a provider, proven: the code exchanged (PKCE verifier), the ID token verified
/// (signature by the provider's JWKS, issuer, audience, expiry, `nonce`) and its claims read as
/// evidence: Google's verified email (and `hd`), Microsoft's UPN - a member of its tenant only for
/// a token its own tenant issued (not a B2B guest's). Used to connect an account and to sign in
/// to the portal.
struct ProvenSignIn {
  oauth::TokenSet tokens;
  std::string subject;  ///< "<issuer>|<sub>"
  std::string label;    ///< the address the provider proved (Google's verified email, Microsoft's UPN)
  std::vector<model::Identity> identities;
};
class OAuthConnections {
 public:
  OAuthConnections(store::Database& db, vault::Vault& vault, AccountStore& accounts, providers::HttpClient& http,
                   const core::Clock& clock, std::chrono::seconds stateTtl = std::chrono::minutes(10));

  /// Registers a provider that can be connected; safe while requests are served (a provider whose
  /// issuer did not answer at start joins later). A kind already registered is kept: the pointers
  /// provider() handed out stay valid for the object's lifetime.
  void add(OAuthProvider provider);
  bool offers(model::ProviderKind kind) const;
  /// A provider the operator configured whose sign-in service did not answer (OAuthOffers keeps
  /// trying): the reason, until add() registers it; nullopt for any other kind. Thread-safe.
  void awaiting(model::ProviderKind kind, std::string reason);
  std::optional<std::string> awaitingReason(model::ProviderKind kind) const;
  const OAuthProvider* provider(model::ProviderKind kind) const;

  /// NotFound: the provider is not configured. Store errors.
  core::Result<OAuthStart> begin(const std::string& userId, model::ProviderKind provider);

  /// Who started the sign-in behind a start link and for which provider, without using it up (the
  /// page that asks the person at the browser to confirm). Invalid as handoff().
  struct PendingStart {
    std::string userId;
    model::ProviderKind provider = model::ProviderKind::Google;
  };
  core::Result<PendingStart> describe(const std::string& handoffSecret);

  /// Invalid: an unknown, already used or expired start link ("start again").
  core::Result<OAuthHandoff> handoff(const std::string& handoffSecret);

  /// `query`: the callback's query parameters. Errors (nothing stored for any):
  /// - Invalid: no state, an unknown or already used state ("start again"), an expired state,
  ///   the provider's `error` (access_denied: consent denied), a missing code, an ID token that is
  ///   missing, an identity without a verified email (or a Microsoft UPN), no refresh token.
  /// - Unauthorized: the state was started in another browser (the binding does not match, or the
  ///   sign-in never went through its start link); the
  ///   code was refused (cause InvalidGrant: used, expired, or from another sign-in); the ID token
  ///   failed verification (cause IdTokenRejected).
  /// - the provider's and the store's transport errors.
  core::Result<OAuthConnected> complete(const std::map<std::string, std::string>& query,
                                        const std::string& browserSecret);

 private:
  struct Pending {
    std::string userId;
    model::ProviderKind provider = model::ProviderKind::Google;
    oauth::Secret verifier;
    std::string nonce;
  };
  core::Result<Pending> consume(const std::string& state, const std::string& browserSecret);
  core::Result<OAuthConnected> store(const Pending& pending, const OAuthProvider& provider,
                                     const ProvenSignIn& who);

  store::Database& db_;
  vault::Vault& vault_;
  AccountStore& accounts_;
  providers::HttpClient& http_;
  const core::Clock& clock_;
  std::chrono::seconds stateTtl_;
  mutable std::shared_mutex providersMutex_;
  std::map<model::ProviderKind, OAuthProvider> providers_;
  std::map<model::ProviderKind, std::string> awaiting_;
};

/// Errors: Invalid (no or an oversized code, no ID token, an unverified Google email, nothing
/// proven); the token endpoint's and ID-token verification's errors (see OAuthConnections::complete).
core::Result<ProvenSignIn> proveSignIn(providers::HttpClient& http, const oauth::ClientConfig& client,
                                       model::ProviderKind kind, const std::string& code, const oauth::Secret& verifier,
                                       const std::string& nonce, const core::Clock& clock);

/// A provider's `error` callback parameter as it may be shown to the person: at most 64 characters,
/// anything but letters, digits and '_' as '?'. Pure.
std::string shownProviderError(std::string_view error);

/// The credential an OAuth account keeps: {"refresh_token"}.
vault::SecretBytes oauthCredential(const oauth::Secret& refreshToken);
/// The refresh token of an opened OAuth credential. Unauthorized when it is not one.
core::Result<oauth::Secret> refreshTokenOf(const vault::SecretBytes& credential);

}  // namespace calgate::accounts
