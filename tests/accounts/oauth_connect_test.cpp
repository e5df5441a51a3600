// Connecting an OAuth account end to end against a real OpenID provider (npm oidc-provider, the
// `oidc` fixture) and a scripted browser: the whole flow, re-authorising the same identity, every
// attack on the callback (nothing stored for any), and the tokens afterwards (refresh with
// rotation, one refresh in flight, invalid_grant -> needs_reauth with its pairs waiting, reconnect
// resumes, revocation when the account goes).
#include "calgate/accounts/oauth_connections.hpp"
#include "calgate/accounts/token_broker.hpp"
#include "calgate/accounts/user_store.hpp"
#include "calgate/api/routes.hpp"
#include "calgate/http/router.hpp"
#include "calgate/oauth/discovery.hpp"
#include "calgate/store/migrator.hpp"
#include "calgate/sync/calendar_store.hpp"
#include "calgate/sync/pair_store.hpp"
#include "calgate/vault/vault.hpp"
#include "fakes/fake_clock.hpp"
#include "fakes/fake_provider.hpp"
#include "support/oidc_server.hpp"
#include "support/test_database.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include <thread>

using namespace calgate;
using namespace calgate::accounts;
using core::Cause;
using core::ErrorCode;
using test::queryOf;
using test::uniqueName;

namespace {

const std::string kRedirect = "http://127.0.0.1:9/oauth/callback";  // the gateway's; never contacted here
const std::string kElsewhere = "http://127.0.0.1:9/elsewhere/callback";

struct Gateway : test::OidcServer {
  test::TestDatabase t;
  // the provider signs with real time: the clock starts there (and is moved by hand)
  test::FakeClock clock{std::chrono::time_point_cast<core::TimePoint::duration>(std::chrono::system_clock::now())};
  std::unique_ptr<vault::Vault> vault;
  std::unique_ptr<AccountStore> accounts;
  std::unique_ptr<OAuthConnections> connections;
  std::unique_ptr<TokenBroker> tokens;
  test::FakeProvider calendars{model::ProviderKind::Google};
  std::string userId, otherUserId;
  std::string account = uniqueName("alice");

  explicit Gateway(nlohmann::json claims = nullptr) {
    REQUIRE(store::Migrator(t.db(), store::builtinMigrations(t.dialect()), clock).migrate());
    UserStore users(t.db(), clock);
    userId = users.addUser("alice@example.com", "t")->first.id;
    otherUserId = users.addUser("mallory@example.com", "t")->first.id;
    auto opened = vault::Vault::open(
        t.db(), vault::MasterKeyMaterial{vault::MasterKeyMaterial::Kind::Raw, vault::SecretBytes(vault::kKeyBytes, 5), "t"},
        clock);
    REQUIRE(opened);
    vault = std::move(*opened);
    accounts = std::make_unique<AccountStore>(t.db(), *vault, clock);
    connections = std::make_unique<OAuthConnections>(t.db(), *vault, *accounts, http, clock);
    tokens = std::make_unique<TokenBroker>(t.db(), *accounts, *connections, http, clock);
    calendars.userCreateCalendar("primary");
    calendars.userCreateCalendar("team");
    OAuthProvider google;
    google.kind = model::ProviderKind::Google;
    google.client.clientId = uniqueName("calgate");
    const std::string secret = uniqueName("client-secret");
    google.client.clientSecret = oauth::Secret(secret.begin(), secret.end());
    google.client.redirectUri = kRedirect;
    google.client.scopes = {"openid", "email", "https://www.googleapis.com/auth/calendar.events"};
    registerClient(google.client.clientId, secret, {kRedirect, kElsewhere});
    auto endpoints = oauth::discover(http, issuer, true);
    REQUIRE(endpoints);
    google.client.endpoints = *endpoints;
    google.calendars = [this](const oauth::Secret& access) -> core::Result<std::vector<providers::CalendarInfo>> {
      REQUIRE_FALSE(access.empty());  // discovery runs with the fresh access token
      return calendars.listCalendars();
    };
    connections->add(std::move(google));
    addAccount(account, claims.is_null() ? nlohmann::json{{"email", account + "@acme.test"}, {"email_verified", true},
                                                           {"hd", "acme.test"}}
                                         : claims);
  }

  long long count(const std::string& table) {
    long long n = -1;
    REQUIRE(t.db().withSession([&](soci::session& sql) -> core::Result<void> {
      sql << "SELECT COUNT(*) FROM " + table, soci::into(n);
      return {};
    }));
    return n;
  }

  /// Begins for `user`, signs in and consents; the callback's query and the browser's secret.
  /// Begins for `user` and opens the start link in a browser: where it is sent, its cookie secret.
  OAuthHandoff started(const std::string& user) {
    auto start = connections->begin(user, model::ProviderKind::Google);
    REQUIRE(start);
    auto opened = connections->handoff(start->handoff);
    REQUIRE(opened);
    return *opened;
  }

  /// Begins for `user`, signs in and consents; the callback's query and the browser's secret.
  std::pair<std::map<std::string, std::string>, std::string> signIn(const std::string& user, bool approve = true) {
    const auto opened = started(user);
    const std::string location = authorize(opened.providerUrl, account, approve);
    REQUIRE(location.starts_with(kRedirect + "?"));
    return {queryOf(location), opened.browserSecret};
  }

  core::Result<OAuthConnected> connect() {
    auto [query, browser] = signIn(userId);
    return connections->complete(query, browser);
  }

  std::size_t tokenRequests(const std::string& grant) {
    std::size_t n = 0;
    for (const auto& entry : control("log")) {
      if (entry["endpoint"] == "token" && entry.value("grant_type", "") == grant) ++n;
    }
    return n;
  }
};

}  // namespace

TEST_CASE("a Google-like account connects: identity proven, refresh token vaulted, calendars found", "[oidc]") {
  Gateway g;
  auto connected = g.connect();
  INFO((connected ? "" : connected.error().message));
  REQUIRE(connected);
  const Account& a = connected->account;
  CHECK_FALSE(connected->reauthorised);
  CHECK(a.provider == model::ProviderKind::Google);
  CHECK(a.email == g.account + "@acme.test");
  CHECK(a.subject == g.issuer + "|" + g.account);
  CHECK(a.status == "active");
  CHECK(model::memberDomains(a.identities) == std::vector<std::string>{"acme.test"});  // hd
  CHECK(connected->calendars.size() == 2);
  auto credential = g.accounts->credential(a.id);
  REQUIRE(credential);
  auto refresh = refreshTokenOf(*credential);
  REQUIRE(refresh);
  CHECK_FALSE(refresh->empty());
  CHECK(g.count("oauth_states") == 0);  // used up

  // the same identity again re-authorises that account instead of adding one
  auto again = g.connect();
  REQUIRE(again);
  CHECK(again->reauthorised);
  CHECK(again->account.id == a.id);
  CHECK(g.count("accounts") == 1);
}

TEST_CASE("attacks on the callback fail and store nothing", "[oidc]") {
  Gateway g;
  const long long accountsBefore = g.count("accounts");

  SECTION("a replayed state") {
    auto [query, browser] = g.signIn(g.userId);
    REQUIRE(g.connections->complete(query, browser));
    auto replay = g.connections->complete(query, browser);
    REQUIRE_FALSE(replay);
    CHECK_THAT(replay.error().message, Catch::Contains("already used"));
    CHECK(g.count("accounts") == accountsBefore + 1);  // only the honest one
    return;
  }
  SECTION("an expired state") {
    auto [query, browser] = g.signIn(g.userId);
    g.clock.advance(std::chrono::minutes(11));
    auto late = g.connections->complete(query, browser);
    REQUIRE_FALSE(late);
    CHECK_THAT(late.error().message, Catch::Contains("expired"));
  }
  SECTION("a state completed from another browser (another user's session)") {
    auto [query, browser] = g.signIn(g.userId);
    const auto mallory = g.started(g.otherUserId);
    auto crossed = g.connections->complete(query, mallory.browserSecret);
    REQUIRE_FALSE(crossed);
    CHECK(crossed.error().code == ErrorCode::Unauthorized);
    CHECK_FALSE(g.connections->complete(query, browser));  // and the state is gone
  }
  SECTION("a code from another sign-in (its code_verifier does not match)") {
    auto [codeQuery, codeBrowser] = g.signIn(g.userId);
    const auto other = g.started(g.userId);
    auto injected = queryOf(other.providerUrl);  // the other sign-in's state, this one's code
    std::map<std::string, std::string> query = {{"state", injected["state"]}, {"code", codeQuery["code"]}};
    auto r = g.connections->complete(query, other.browserSecret);
    REQUIRE_FALSE(r);
    CHECK(r.error().cause == Cause::InvalidGrant);
  }
  SECTION("a code the provider sent to a tampered redirect URI") {
    const auto start = g.started(g.userId);
    std::string url = start.providerUrl;
    const std::string mine = "redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Foauth%2Fcallback";
    REQUIRE(url.find(mine) != std::string::npos);
    url.replace(url.find(mine), mine.size(), "redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Felsewhere%2Fcallback");
    const std::string location = g.authorize(url, g.account);
    REQUIRE(location.starts_with(kElsewhere + "?"));  // the attacker's endpoint got the code
    auto r = g.connections->complete(queryOf(location), start.browserSecret);
    REQUIRE_FALSE(r);
    CHECK(r.error().cause == Cause::InvalidGrant);  // redeemed with the real redirect URI: refused
  }
  SECTION("consent denied") {
    auto [query, browser] = g.signIn(g.userId, false);
    CHECK(query["error"] == "access_denied");
    auto r = g.connections->complete(query, browser);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("consent was denied"));
    CHECK(g.count("oauth_states") == 0);
  }
  SECTION("a start link opened twice, or a sign-in that never went through its start link") {
    auto start = g.connections->begin(g.userId, model::ProviderKind::Google);
    REQUIRE(start);
    REQUIRE(g.connections->handoff(start->handoff));
    auto twice = g.connections->handoff(start->handoff);
    REQUIRE_FALSE(twice);
    CHECK_THAT(twice.error().message, Catch::Contains("already used"));
    auto skipped = g.connections->begin(g.userId, model::ProviderKind::Google);
    REQUIRE(skipped);
    // the provider URL leaks (e.g. from a log): a browser that never opened the start link has no binding
    auto sealed = g.connections->handoff(skipped->handoff);
    REQUIRE(sealed);
    const std::string location = g.authorize(sealed->providerUrl, g.account);
    auto r = g.connections->complete(queryOf(location), "");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::Unauthorized);
  }
  SECTION("an expired start link") {
    auto start = g.connections->begin(g.userId, model::ProviderKind::Google);
    REQUIRE(start);
    g.clock.advance(std::chrono::minutes(11));
    auto late = g.connections->handoff(start->handoff);
    REQUIRE_FALSE(late);
    CHECK_THAT(late.error().message, Catch::Contains("expired"));
  }
  SECTION("no state at all") {
    CHECK_FALSE(g.connections->complete({{"code", "x"}}, "y"));
  }
  CHECK(g.count("accounts") == accountsBefore);
}

TEST_CASE("an identity whose email is not verified is refused", "[oidc]") {
  Gateway g(nlohmann::json{{"email", "ceo@acme.test"}, {"email_verified", false}});
  auto r = g.connect();
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("not verified"));
  CHECK(g.count("accounts") == 0);
}

TEST_CASE("tokens: refreshed with rotation, one refresh in flight, invalid_grant pauses, reconnect resumes",
          "[oidc]") {
  Gateway g;
  auto connected = g.connect();
  REQUIRE(connected);
  const std::string id = connected->account.id;
  const auto original = *refreshTokenOf(*g.accounts->credential(id));
  const std::size_t refreshesBefore = g.tokenRequests("refresh_token");

  // several callers at once: exactly one refresh, everyone gets the same token
  std::vector<std::thread> callers;
  std::vector<std::string> seen(4);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    callers.emplace_back([&, i] {
      auto token = g.tokens->accessToken(id);
      if (token) seen[i] = std::string(token->begin(), token->end());
    });
  }
  for (auto& c : callers) c.join();
  CHECK(g.tokenRequests("refresh_token") == refreshesBefore + 1);
  CHECK_FALSE(seen[0].empty());
  CHECK(std::all_of(seen.begin(), seen.end(), [&](const std::string& s) { return s == seen[0]; }));
  // the rotated refresh token was stored (the old one is spent)
  const auto rotated = *refreshTokenOf(*g.accounts->credential(id));
  CHECK(rotated != original);

  // near expiry it refreshes again by itself
  g.clock.advance(std::chrono::seconds(3600 - 200));
  REQUIRE(g.tokens->accessToken(id));
  CHECK(g.tokenRequests("refresh_token") == refreshesBefore + 2);

  // a pair of this account
  sync::CalendarStore calendars(g.t.db(), g.clock);
  auto a = calendars.upsert(id, "primary", "Primary", "UTC", true);
  auto b = calendars.upsert(id, "team", "Team", "UTC", true);
  REQUIRE(a);
  REQUIRE(b);
  sync::NewPair np;
  np.userId = g.userId;
  np.sourceCalendarId = a->id;
  np.targetCalendarId = b->id;
  auto pair = sync::PairStore(g.t.db(), g.clock).create(np);
  REQUIRE(pair);

  // the user revokes calgate at the provider: invalid_grant -> needs_reauth, the pair waits
  g.control("revoke-grants", {{"account", g.account}});
  g.tokens->forget(id);
  auto refused = g.tokens->accessToken(id);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().cause == Cause::InvalidGrant);
  auto account = g.accounts->get(id);
  CHECK(account->status == "needs_reauth");
  CHECK_FALSE(account->statusReason.empty());
  CHECK(sync::PairStore(g.t.db(), g.clock).get(pair->id)->accountNeedsReauth);
  auto runnable = sync::PairStore(g.t.db(), g.clock).listRunnable();
  REQUIRE(runnable);
  CHECK(runnable->empty());
  const std::size_t afterRefusal = g.tokenRequests("refresh_token");
  CHECK_FALSE(g.tokens->accessToken(id));  // no retry storm: the provider is not asked again
  CHECK(g.tokenRequests("refresh_token") == afterRefusal);

  // connecting the same identity again resumes everything
  auto back = g.connect();
  REQUIRE(back);
  CHECK(back->reauthorised);
  CHECK(g.accounts->get(id)->status == "active");
  CHECK_FALSE(sync::PairStore(g.t.db(), g.clock).get(pair->id)->accountNeedsReauth);
  g.tokens->forget(id);
  CHECK(g.tokens->accessToken(id));

  // deleting the account revokes its refresh token at the provider
  const auto stored = *refreshTokenOf(*g.accounts->credential(id));
  REQUIRE(g.tokens->revoke(id));
  const auto log = g.control("log");
  CHECK(log.back()["endpoint"] == "revocation");
  CHECK(log.back()["status"] == 200);
  auto dead = oauth::refresh(g.http, g.connections->provider(model::ProviderKind::Google)->client, stored, g.clock);
  REQUIRE_FALSE(dead);
  CHECK(dead.error().cause == Cause::InvalidGrant);
}

// ---- the routes (api::addOAuthRoutes) with the same provider, called as the dispatcher would

namespace {

struct Routes {
  Gateway& g;
  accounts::UserStore users{g.t.db(), g.clock};
  api::Services services;
  http::Router router;

  explicit Routes(Gateway& gateway) : g(gateway) {
    services.db = &g.t.db();
    services.users = &users;
    services.clock = &g.clock;
    services.accounts = g.accounts.get();
    services.oauth = g.connections.get();
    services.tokens = g.tokens.get();
    services.publicUrl = "http://127.0.0.1:9";
    router = api::buildRouter(services);
  }

  http::Response call(const std::string& method, const std::string& target, std::string cookie = {},
                       bool authenticated = true, std::string origin = {}) {
    http::Request r;
    r.method = method;
    if (!origin.empty()) r.headers.emplace_back("origin", origin);
    r.path = target.substr(0, target.find('?'));
    if (const auto q = target.find('?'); q != std::string::npos) r.query = target.substr(q + 1);
    if (!cookie.empty()) r.headers.emplace_back("cookie", "other=1; " + cookie);
    r.requestId = "req_test";
    auto match = router.match(method, r.path);
    REQUIRE(match.kind == http::RouteMatch::Kind::Found);
    REQUIRE(match.route->authenticated == authenticated);
    r.params = match.params;
    if (authenticated) r.identity = http::Identity{g.userId, "tok_test"};
    return match.route->handler(r);
  }

  /// The start link in a browser: its page, then its button (from calgate's own origin).
  http::Response open(const std::string& link) {
    const std::string path = link.substr(std::string("http://127.0.0.1:9").size());
    auto confirm = call("GET", path, {}, false);
    REQUIRE(confirm.status == 200);
    CHECK_THAT(confirm.body, Catch::Contains("calgate user alice@example.com") &&
                                 Catch::Contains("<form method=\"post\" action=\"" + path + "\">"));
    return call("POST", path, {}, false, "http://127.0.0.1:9");
  }

  static std::string header(const http::Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return {};
  }
};

}  // namespace

TEST_CASE("routes: a start link, the browser's cookie, the callback's page; disconnecting revokes", "[oidc]") {
  Gateway g;
  Routes routes(g);
  auto started = routes.call("POST", "/v1/accounts/oauth/google");
  REQUIRE(started.status == 200);
  const auto link = nlohmann::json::parse(started.body)["authorization_url"].get<std::string>();
  REQUIRE(link.starts_with("http://127.0.0.1:9/oauth/start/"));

  // the button posted from another site is refused, and the link stays usable
  const std::string path = link.substr(std::string("http://127.0.0.1:9").size());
  CHECK(routes.call("POST", path, {}, false, "https://evil.example").status == 403);
  CHECK(routes.call("POST", path, {}, false).status == 403);
  auto opened = routes.open(link);
  REQUIRE(opened.status == 303);
  const std::string setCookie = Routes::header(opened, "Set-Cookie");
  CHECK_THAT(setCookie, Catch::StartsWith("calgate_oauth=") && Catch::Contains("HttpOnly") &&
                            Catch::Contains("SameSite=Lax") && Catch::Contains("Path=/oauth"));
  // the link works once
  CHECK(routes.call("GET", path, {}, false).status == 400);
  CHECK(routes.call("POST", path, {}, false, "http://127.0.0.1:9").status == 400);

  const std::string back = g.authorize(Routes::header(opened, "Location"), g.account);
  REQUIRE(back.starts_with(kRedirect + "?"));
  const std::string callback = "/oauth/callback" + back.substr(back.find('?'));
  // without the browser's cookie (another browser): refused, and that uses the sign-in up
  auto elsewhere = routes.call("GET", callback, {}, false);
  CHECK(elsewhere.status == 400);
  CHECK_THAT(elsewhere.body, Catch::Contains("another browser"));
  CHECK(g.count("accounts") == 0);

  // again, properly
  auto second = routes.call("POST", "/v1/accounts/oauth/google");
  const auto link2 = nlohmann::json::parse(second.body)["authorization_url"].get<std::string>();
  auto opened2 = routes.open(link2);
  const std::string cookie2 = Routes::header(opened2, "Set-Cookie").substr(0, Routes::header(opened2, "Set-Cookie").find(';'));
  const std::string back2 = g.authorize(Routes::header(opened2, "Location"), g.account);
  auto page = routes.call("GET", "/oauth/callback" + back2.substr(back2.find('?')), cookie2, false);
  INFO(page.body);
  REQUIRE(page.status == 200);
  CHECK_THAT(page.body, Catch::Contains("(calgate user alice@example.com) is connected with 2 calendars"));
  CHECK_THAT(Routes::header(page, "Set-Cookie"), Catch::Contains("Max-Age=0"));
  CHECK_THAT(Routes::header(page, "Content-Security-Policy"), Catch::StartsWith("default-src 'none'"));
  auto accounts = g.accounts->listForUser(g.userId);
  REQUIRE(accounts);
  REQUIRE(accounts->size() == 1);
  CHECK(sync::CalendarStore(g.t.db(), g.clock).listForAccount(accounts->front().id)->size() == 2);

  // what the API answers for providers it cannot connect
  CHECK(routes.call("POST", "/v1/accounts/oauth/caldav").status == 422);
  CHECK(routes.call("POST", "/v1/accounts/oauth/yahoo").status == 404);
  auto microsoft = routes.call("POST", "/v1/accounts/oauth/microsoft");
  CHECK(microsoft.status == 422);
  CHECK_THAT(microsoft.body, Catch::Contains("provider-not-configured"));

  // disconnecting revokes calgate's refresh token at the provider
  auto removed = routes.call("DELETE", "/v1/accounts/" + accounts->front().id);
  CHECK(removed.status == 204);
  const auto log = g.control("log");
  CHECK(log.back()["endpoint"] == "revocation");
  CHECK(log.back()["status"] == 200);
  CHECK(g.count("accounts") == 0);
}

TEST_CASE("routes: the callback's page escapes what the provider sent", "[oidc]") {
  Gateway g;
  Routes routes(g);
  auto started = routes.call("POST", "/v1/accounts/oauth/google");
  const auto link = nlohmann::json::parse(started.body)["authorization_url"].get<std::string>();
  auto opened = routes.open(link);
  const std::string cookie = Routes::header(opened, "Set-Cookie").substr(0, Routes::header(opened, "Set-Cookie").find(';'));
  const std::string state = queryOf(Routes::header(opened, "Location"))["state"];
  auto page = routes.call("GET", "/oauth/callback?state=" + state + "&error=%3Cscript%3Ealert(1)%3C%2Fscript%3E", cookie,
                          false);
  CHECK(page.status == 400);
  CHECK(page.body.find("<script>") == std::string::npos);
  CHECK_THAT(page.body, Catch::Contains("refused the sign-in"));
}

TEST_CASE("routes: erasing a user revokes calgate's access to their OAuth accounts first", "[oidc]") {
  Gateway g;
  Routes routes(g);
  auto connected = g.connect();
  REQUIRE(connected);
  const auto stored = *refreshTokenOf(*g.accounts->credential(connected->account.id));
  auto erased = routes.call("DELETE", "/v1/me");
  CHECK(erased.status == 204);
  CHECK(g.count("accounts") == 0);
  const auto log = g.control("log");
  CHECK(log.back()["endpoint"] == "revocation");
  auto dead = oauth::refresh(g.http, g.connections->provider(model::ProviderKind::Google)->client, stored, g.clock);
  REQUIRE_FALSE(dead);
  CHECK(dead.error().cause == Cause::InvalidGrant);
}
