// The portal's sessions and sign-in links on SQLite and PostgreSQL ([store]): only hashes stored,
// the CSRF token bound to one session, a fixed lifetime that use does not extend, revocation per
// user, suspension, retention; links once only and within their lifetime; the browser label.
#include "calgate/accounts/user_store.hpp"
#include "calgate/core/hash.hpp"
#include "calgate/portal/assets.hpp"
#include "calgate/portal/login_links.hpp"
#include "calgate/portal/oidc_signin.hpp"
#include "calgate/portal/session_store.hpp"
#include "support/migrated_database.hpp"

#include <catch2/catch.hpp>

using namespace calgate;
using namespace std::chrono;

namespace {

struct Fixture : test::MigratedDatabase {
  accounts::UserStore users{t.db(), clock};
  portal::SessionStore sessions{t.db(), clock, hours(24 * 14)};
  portal::LoginLinks links{t.db(), clock};
  std::string user(const std::string& email) {
    auto u = users.createUser(email);
    REQUIRE(u);
    return u->id;
  }
};

}  // namespace

TEST_CASE("a session is a hashed secret with its own CSRF token and a fixed lifetime", "[store][portal]") {
  Fixture f;
  const auto ada = f.user("ada@example.com");
  auto opened = f.sessions.open(ada, "link", "Chromium on Linux");
  REQUIRE(opened);
  CHECK(opened->secret.starts_with("cgs_"));
  CHECK(f.count("SELECT COUNT(*) FROM portal_sessions WHERE secret_hash = '" + core::sha256Hex(opened->secret) + "'") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM portal_sessions WHERE secret_hash = '" + opened->secret + "'") == 0);
  auto second = f.sessions.open(ada, "google", "Firefox on Windows");
  REQUIRE(second);
  CHECK(portal::csrfToken(opened->secret) != portal::csrfToken(second->secret));
  CHECK(portal::csrfToken(opened->secret) == portal::csrfToken(opened->secret));
  CHECK(portal::csrfToken(opened->secret).find(opened->secret) == std::string::npos);

  auto found = f.sessions.authenticate(opened->secret);
  REQUIRE(found);
  CHECK(found->userId == ada);
  CHECK(found->via == "link");
  // use does not extend it: 13 days of use, then it ends at 14 days after the sign-in
  for (int day = 0; day < 13; ++day) {
    f.clock.advance(hours(24));
    REQUIRE(f.sessions.authenticate(opened->secret));
  }
  f.clock.advance(hours(24));
  auto ended = f.sessions.authenticate(opened->secret);
  REQUIRE_FALSE(ended);
  CHECK(ended.error().code == core::ErrorCode::Unauthorized);
  for (const std::string& bad : std::vector<std::string>{"", "cgs_", "cgs_unknown", "cgt_abc", std::string(200, 'x')}) {
    CHECK(f.sessions.authenticate(bad).error().code == core::ErrorCode::Unauthorized);
  }
}

TEST_CASE("sessions are listed and revoked per user, end with suspension and are purged", "[store][portal]") {
  Fixture f;
  const auto ada = f.user("ada@example.com");
  const auto bob = f.user("bob@example.com");
  auto a1 = f.sessions.open(ada, "link", "Safari on iOS");
  f.clock.advance(seconds(5));
  auto a2 = f.sessions.open(ada, "microsoft", "Edge on Windows");
  auto b1 = f.sessions.open(bob, "link", "Firefox on Linux");
  REQUIRE((a1 && a2 && b1));
  auto listed = f.sessions.list(ada);
  REQUIRE(listed);
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[0].id == a2->session.id);  // newest first
  CHECK(f.sessions.revoke(bob, a1->session.id).error().code == core::ErrorCode::NotFound);  // not bob's
  REQUIRE(f.sessions.revoke(ada, a1->session.id));
  CHECK(f.sessions.revoke(ada, a1->session.id).error().code == core::ErrorCode::NotFound);  // already ended
  CHECK_FALSE(f.sessions.authenticate(a1->secret));
  CHECK(f.sessions.authenticate(a2->secret));
  CHECK(f.sessions.list(ada)->size() == 1);

  // suspension ends sessions for good: reinstating the user does not bring them back
  auto b2 = f.sessions.open(bob, "link", "Firefox on Linux");
  REQUIRE(b2);
  REQUIRE(f.users.setDisabled("ada@example.com", true));
  CHECK_FALSE(f.sessions.authenticate(a2->secret));
  REQUIRE(f.users.setDisabled("ada@example.com", false));
  CHECK_FALSE(f.sessions.authenticate(a2->secret));
  CHECK(f.sessions.authenticate(b2->secret));  // another user's stay
  a2 = f.sessions.open(ada, "microsoft", "Edge on Windows");
  REQUIRE(a2);

  // last use is kept once a minute at most
  const long long seen = f.sessions.authenticate(a2->secret)->lastSeenAt;
  f.clock.advance(seconds(30));
  CHECK(f.sessions.authenticate(a2->secret)->lastSeenAt == seen);
  f.clock.advance(seconds(40));
  CHECK(f.sessions.authenticate(a2->secret)->lastSeenAt > seen);

  // retention: revoked and expired rows older than the cut-off go, live ones stay
  f.clock.advance(hours(24 * 15));
  auto live = f.sessions.open(bob, "link", "x");
  REQUIRE(live);
  const long long now = f.clock.nowUnixSeconds();
  auto purged = f.sessions.purge(now);
  REQUIRE(purged);
  CHECK(*purged == 5);
  CHECK(f.count("SELECT COUNT(*) FROM portal_sessions") == 1);
}

TEST_CASE("a sign-in link works once, within its lifetime, for a user who is not suspended", "[store][portal]") {
  Fixture f;
  const auto ada = f.user("ada@example.com");
  auto link = f.links.issue(ada, hours(24));
  REQUIRE(link);
  CHECK(link->secret.starts_with("cgl_"));
  CHECK(f.count("SELECT COUNT(*) FROM login_links WHERE secret_hash = '" + core::sha256Hex(link->secret) + "'") == 1);
  CHECK(*f.links.describe(link->secret) == ada);
  CHECK(*f.links.describe(link->secret) == ada);  // describing uses nothing up
  CHECK(*f.links.consume(link->secret) == ada);
  CHECK(f.links.consume(link->secret).error().code == core::ErrorCode::Invalid);  // once only
  auto pending = f.links.issue(ada, hours(24));
  REQUIRE(pending);
  REQUIRE(f.users.setDisabled("ada@example.com", true));  // suspension takes unused links away for good
  REQUIRE(f.users.setDisabled("ada@example.com", false));
  CHECK(f.links.consume(pending->secret).error().code == core::ErrorCode::Invalid);

  auto late = f.links.issue(ada, hours(1));
  REQUIRE(late);
  f.clock.advance(hours(1));
  CHECK(f.links.consume(late->secret).error().code == core::ErrorCode::Invalid);
  CHECK(f.links.describe("cgl_nothing").error().code == core::ErrorCode::Invalid);
  CHECK(f.links.describe("").error().code == core::ErrorCode::Invalid);
  // issuing removes expired links
  REQUIRE(f.links.issue(ada, hours(1)));
  CHECK(f.count("SELECT COUNT(*) FROM login_links") == 1);
}

TEST_CASE("the session list names browsers coarsely, never by their User-Agent", "[portal]") {
  CHECK(portal::clientLabel("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
                            "Safari/537.36") == "Chromium on Linux");
  CHECK(portal::clientLabel("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                            "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0") == "Edge on Windows");
  CHECK(portal::clientLabel("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
                            "Gecko) Version/17.0 Mobile/15E148 Safari/604.1") == "Safari on iOS");
  CHECK(portal::clientLabel("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36") ==
        "Chromium on Android");
  CHECK(portal::clientLabel("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.0; rv:121.0) Gecko/20100101 Firefox/121.0") ==
        "Firefox on macOS");
  CHECK(portal::clientLabel("") == "a browser");
  CHECK(portal::clientLabel("curl/8.0") == "a browser");
}

TEST_CASE("a portal sign-in asks for the identity only", "[portal]") {
  oauth::ClientConfig connect;
  connect.clientId = "c";
  connect.scopes = {"openid", "email", "https://www.googleapis.com/auth/calendar"};
  connect.extraAuthorizationParams = {{"access_type", "offline"}, {"prompt", "consent"}};
  const auto signIn = portal::signInClient(connect);
  CHECK(signIn.scopes == std::vector<std::string>{"openid", "email", "profile"});
  CHECK(signIn.extraAuthorizationParams.empty());
  CHECK(signIn.clientId == "c");
}

TEST_CASE("the portal's files are embedded with their types and digests", "[portal]") {
  const auto* index = portal::findAsset("index.html");
  REQUIRE(index);
  CHECK(index->contentType == "text/html; charset=utf-8");
  CHECK(index->sha256Hex == core::sha256Hex(index->body));
  for (const auto& asset : portal::allAssets()) {
    INFO(asset.name);
    CHECK(asset.sha256Hex == core::sha256Hex(asset.body));  // the whole file, across the 16 KiB pieces
    CHECK_FALSE(asset.body.empty());
  }
  CHECK(portal::findAsset("app.js"));
  CHECK_FALSE(portal::findAsset("../calgate.db"));
  CHECK_FALSE(portal::findAsset(""));
}
