#pragma once
/// The REST routes of the gateway, registered on a Router. Each add* function owns one group
/// of routes and documents them in schemas/openapi.yaml (a test holds the two together).

#include "calgate/accounts/caldav_accounts.hpp"
#include "calgate/accounts/user_store.hpp"
#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/http/dispatcher.hpp"
#include "calgate/http/metrics.hpp"
#include "calgate/http/rate_limiter.hpp"
#include "calgate/api/limits.hpp"
#include "calgate/http/router.hpp"
#include "calgate/policy/org_policy_source.hpp"
#include "calgate/providers/provider.hpp"
#include "calgate/store/database.hpp"
#include "calgate/store/migrator.hpp"

#include <functional>
#include <string>
#include <vector>

namespace calgate::dns {
class OrgPolicyService;
}
namespace calgate::accounts {
class AccountStore;
class OAuthConnections;
class TokenBroker;
}
namespace calgate::portal {
class SessionStore;
class LoginLinks;
class OidcSignIn;
struct PortalConfig;
}
namespace calgate::sync {
class ProviderFactory;
class JobSignal;
class PushMetrics;
struct SyncOptions;
}

namespace calgate::api {

/// Runs CalDAV discovery and lists the account's calendars (the real one opens an HTTP client
/// with the configured network guard).
using CalDavDiscoverer = std::function<core::Result<accounts::CalDavDiscovery>(const accounts::CalDavLogin&)>;

/// What the handlers need. Pointers, not references, so the route table can be built without a
/// running gateway (`calgate routes`); handlers dereference them only when called. Everything
/// referenced must outlive the router.
struct Services {
  store::Database* db = nullptr;
  store::Migrator* migrator = nullptr;
  accounts::UserStore* users = nullptr;
  http::HttpMetrics* metrics = nullptr;
  const core::Clock* clock = nullptr;
  /// Null while the vault is closed (migrations pending): account, pair and feed routes answer 503.
  accounts::AccountStore* accounts = nullptr;
  sync::ProviderFactory* providers = nullptr;     ///< opens a calendar's provider (preview, feeds)
  policy::OrgPolicySource* orgPolicies = nullptr;  ///< cached organisation policies (preview)
  const sync::SyncOptions* syncOptions = nullptr;  ///< the workers' engine options: the preview plans as they run
  dns::OrgPolicyService* orgPolicyService = nullptr;  ///< fresh DNSSEC lookups (GET /v1/policy)
  CalDavDiscoverer discoverCalDav;
  /// Wakes the workers of this process when a route queues a job ("sync now"); null: they poll.
  sync::JobSignal* jobSignal = nullptr;
  http::RateLimiter* feedLimiter = nullptr;    ///< requests per feed URL (unauthenticated)
  http::RateLimiter* policyLimiter = nullptr;  ///< fresh DNS lookups per token (GET /v1/policy)
  /// How long one request may wait on calendar servers in all (a feed render, a preview).
  std::chrono::seconds outboundBudget{30};
  ApiLimits limits;  ///< per-user counts, busy blocks per feed
  /// GET /metrics needs "Authorization: Bearer <this>"; empty: it answers loopback clients only.
  std::string metricsToken;
  /// Lookups of feed tokens that turn out unknown, per client address (bounds guessing).
  http::RateLimiter* unknownFeedLimiter = nullptr;
  /// Push notifications that are not calgate's (forged, unknown channel), per client address.
  http::RateLimiter* webhookLimiter = nullptr;
  /// The vault's key of keyed hashes (erasure records keep only a keyed hash of the address);
  /// empty while the vault is closed.
  std::string hashKey{};
  /// Counts the notifications the webhook endpoints receive (null: not counted).
  sync::PushMetrics* pushMetrics = nullptr;
  /// OAuth sign-ins (null while the vault is closed) and the access tokens of OAuth accounts.
  accounts::OAuthConnections* oauth = nullptr;
  accounts::TokenBroker* tokens = nullptr;
  /// server.public_url: the start links and the redirect URI (<this>/oauth/callback) derive from it.
  std::string publicUrl{};
  /// The web portal: sessions and sign-in links (null: nobody can sign in), signing in with Google
  /// or Microsoft (null while the vault is closed), and who may sign up.
  portal::SessionStore* sessions = nullptr;
  portal::LoginLinks* loginLinks = nullptr;
  portal::OidcSignIn* signIn = nullptr;
  const portal::PortalConfig* portalConfig = nullptr;
  http::RateLimiter* signInLimiter = nullptr;  ///< sign-in starts and link uses per client address
};

/// GET /healthz (process alive), GET /readyz (database reachable and schema current, else 503),
/// GET /metrics (Prometheus text). Unauthenticated: bind the server to a private address.
void addSystemRoutes(http::Router& router, Services& services);

/// GET /v1/me, GET /v1/me/export (everything held about the caller, no secrets), DELETE /v1/me
/// (erasure: every row of the user, a deletion record holding only a hash of the email).
void addMeRoutes(http::Router& router, Services& services);

/// /v1/accounts: connect a CalDAV account (checked by discovery first), list, calendars, delete.
void addAccountRoutes(http::Router& router, Services& services);

/// POST /v1/accounts/oauth/{provider} (a start link for the user's browser), GET /oauth/start/{handoff}
/// and GET /oauth/callback (the browser's side of connecting a Google or Microsoft 365 account).
void addOAuthRoutes(http::Router& router, Services& services);

/// /v1/pairs: create, list, get, update, delete, sync now, status, confirm, preview.
void addPairRoutes(http::Router& router, Services& services);

/// GET /v1/policy/{domain}: the organisation policy calgate sees and why.
void addPolicyRoutes(http::Router& router, Services& services);

/// /v1/feeds (manage availability feeds) and GET /feeds/{token}.ics (busy blocks, unauthenticated).
void addFeedRoutes(http::Router& router, Services& services);

/// POST /webhooks/google: push notifications of the channels calgate opened (sync/push_inbox.hpp),
/// unauthenticated; a genuine change queues a coalesced sync of the pairs reading the calendar.
void addWebhookRoutes(http::Router& router, Services& services);

/// The web portal (/portal and its files, /portal/config, signing in with a link or with Google or
/// Microsoft) and its sessions (/v1/session, /v1/me/sessions).
void addPortalRoutes(http::Router& router, Services& services);
void addSessionRoutes(http::Router& router, Services& services);

/// All of the above.
http::Router buildRouter(Services& services);

/// The dispatcher's authenticator: an API token's holder, from `users`, as the HTTP layer's
/// identity. `users` must outlive it.
http::Authenticator bearerAuthenticator(accounts::UserStore& users);

/// The dispatcher's session authenticator: the portal's session cookie (services.sessions). A
/// request that changes anything (any method but GET and HEAD) must also carry the session's CSRF
/// token in X-CSRF-Token, and an Origin header, when sent, must be the public URL: 403 csrf
/// otherwise. `services` must outlive it.
http::SessionAuthenticator sessionAuthenticator(const Services& services);

}  // namespace calgate::api
