// The OAuth client against a real OpenID provider (npm oidc-provider, the `oidc` fixture:
// tests/services/oidc.sh; its state dir in CG_TEST_OIDC_STATE). Login and consent are driven by
// tests/api/oidc_browser.py, which hands back the redirect to the client without following it.
#include "calgate/oauth/client.hpp"
#include "calgate/oauth/discovery.hpp"
#include "calgate/oauth/id_token.hpp"
#include "calgate/providers/http/curl_http_client.hpp"
#include "fakes/fake_clock.hpp"
#include "support/oidc_server.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>

using namespace calgate;
using core::Cause;
using core::ErrorCode;
using nlohmann::json;

namespace {

const std::string kRedirect = "http://127.0.0.1:9/oauth/callback";  // never contacted
const std::string kCalendarScope = "https://www.googleapis.com/auth/calendar.events";

using test::queryOf;
using test::uniqueName;

oauth::Secret secret(const std::string& s) { return oauth::Secret(s.begin(), s.end()); }

// The provider of the fixture, a client registered with it and an account with claims.
struct Provider : test::OidcServer {
  oauth::ClientConfig client;
  std::string account = uniqueName("alice");

  Provider() {
    client.clientId = uniqueName("calgate");
    client.clientSecret = secret(uniqueName("secret-of-the-client"));
    client.redirectUri = kRedirect;
    client.scopes = {"openid", "email", "profile", kCalendarScope};
    registerClient(client.clientId, std::string(client.clientSecret.begin(), client.clientSecret.end()), {kRedirect});
    addAccount(account, {{"email", account + "@example.test"}, {"email_verified", true}, {"hd", "example.test"},
                         {"name", "Alice Example"}});
    auto endpoints = oauth::discover(http, issuer, true);
    REQUIRE(endpoints);
    client.endpoints = *endpoints;
  }

  std::string authorize(const std::string& url) { return OidcServer::authorize(url, account); }

  // A whole authorization: start, browser, callback checks; the code and what was started.
  std::pair<std::string, oauth::AuthorizationStart> code() {
    auto start = oauth::startAuthorization(client);
    REQUIRE(start);
    const std::string location = authorize(start->url);
    INFO(location);
    REQUIRE(location.starts_with(kRedirect + "?"));
    auto q = queryOf(location);
    CHECK(q["state"] == start->state);
    CHECK(q["iss"] == issuer);
    REQUIRE_FALSE(q["code"].empty());
    return {q["code"], std::move(*start)};
  }

  oauth::TokenSet tokens() {
    auto [code, start] = this->code();
    auto t = oauth::exchangeCode(http, client, code, start.codeVerifier, core::systemClock());
    INFO((t ? "" : t.error().message));
    REQUIRE(t);
    return std::move(*t);
  }
};

}  // namespace

TEST_CASE("code flow with PKCE, id_token and the identity against oidc-provider", "[oidc]") {
  Provider p;
  CHECK(p.client.endpoints.issuer == p.issuer);
  CHECK(p.client.endpoints.token == p.issuer + "/token");
  CHECK_FALSE(p.client.endpoints.revocation.empty());
  auto [code, start] = p.code();
  const long long before = core::systemClock().nowUnixSeconds();
  auto tokens = oauth::exchangeCode(p.http, p.client, code, start.codeVerifier, core::systemClock());
  INFO((tokens ? "" : tokens.error().message));
  REQUIRE(tokens);
  CHECK_FALSE(tokens->accessToken.empty());
  CHECK_FALSE(tokens->refreshToken.empty());
  CHECK(tokens->expiresAt >= before + 3600);
  CHECK(tokens->expiresAt <= core::systemClock().nowUnixSeconds() + 3600);
  CHECK(tokens->tokenType == "Bearer");
  CHECK(tokens->scope.find(kCalendarScope) != std::string::npos);
  REQUIRE_FALSE(tokens->idToken.empty());

  const auto log = p.control("log").back();
  CHECK(log["endpoint"] == "token");
  CHECK(log["client_auth"] == "client_secret_post");
  CHECK(log["code_verifier"] == true);
  CHECK(log["status"] == 200);

  auto jwks = oauth::fetchJwks(p.http, p.client.endpoints.jwks);
  REQUIRE(jwks);
  auto id = oauth::verifyIdToken(tokens->idToken, *jwks, p.issuer, p.client.clientId, start.nonce, core::systemClock());
  INFO((id ? "" : id.error().message));
  REQUIRE(id);
  CHECK(id->issuer == p.issuer);
  CHECK(id->subject == p.account);
  CHECK(id->email == p.account + "@example.test");
  CHECK(id->emailVerified);
  CHECK(id->hostedDomain == "example.test");
  CHECK(id->name == "Alice Example");
  auto wrongNonce = oauth::verifyIdToken(tokens->idToken, *jwks, p.issuer, p.client.clientId, "another-nonce",
                                         core::systemClock());
  REQUIRE_FALSE(wrongNonce);
  CHECK(wrongNonce.error().cause == Cause::IdTokenRejected);

  // the provider's own token, checked as another client, another issuer, or too late
  auto rejected = [&](const std::string& issuer, const std::string& clientId, const core::Clock& clock,
                      const std::string& why) {
    auto r = oauth::verifyIdToken(tokens->idToken, *jwks, issuer, clientId, start.nonce, clock);
    REQUIRE_FALSE(r);
    CHECK(r.error().cause == Cause::IdTokenRejected);
    CHECK_THAT(r.error().message, Catch::Contains(why));
  };
  rejected(p.issuer, "another-client", core::systemClock(), "aud");
  rejected("http://127.0.0.1:1", p.client.clientId, core::systemClock(), "iss");
  test::FakeClock later{std::chrono::time_point_cast<core::TimePoint::duration>(std::chrono::system_clock::now()) +
                        std::chrono::hours(2)};
  rejected(p.issuer, p.client.clientId, later, "expired");
}

TEST_CASE("refresh rotates the refresh token; the old one is then invalid_grant", "[oidc]") {
  Provider p;
  const auto first = p.tokens();
  auto second = oauth::refresh(p.http, p.client, first.refreshToken, core::systemClock());
  INFO((second ? "" : second.error().message));
  REQUIRE(second);
  CHECK_FALSE(second->accessToken.empty());
  REQUIRE_FALSE(second->refreshToken.empty());
  CHECK(second->refreshToken != first.refreshToken);
  CHECK(second->accessToken != first.accessToken);
  auto third = oauth::refresh(p.http, p.client, second->refreshToken, core::systemClock());
  REQUIRE(third);
  auto reused = oauth::refresh(p.http, p.client, first.refreshToken, core::systemClock());
  REQUIRE_FALSE(reused);
  CHECK(reused.error().code == ErrorCode::Unauthorized);
  CHECK(reused.error().cause == Cause::InvalidGrant);
  const std::string old(first.refreshToken.begin(), first.refreshToken.end());
  CHECK(reused.error().message.find(old) == std::string::npos);
}

TEST_CASE("a revoked refresh token is invalid_grant", "[oidc]") {
  Provider p;
  const auto tokens = p.tokens();
  auto revoked = oauth::revoke(p.http, p.client, tokens.refreshToken, "refresh_token");
  INFO((revoked ? "" : revoked.error().message));
  REQUIRE(revoked);
  const auto log = p.control("log").back();
  CHECK(log["endpoint"] == "revocation");
  CHECK(log["client_auth"] == "client_secret_post");
  CHECK(log["token_type_hint"] == "refresh_token");
  auto after = oauth::refresh(p.http, p.client, tokens.refreshToken, core::systemClock());
  REQUIRE_FALSE(after);
  CHECK(after.error().code == ErrorCode::Unauthorized);
  CHECK(after.error().cause == Cause::InvalidGrant);
  // revoking it again is no error (RFC 7009 2.2)
  CHECK(oauth::revoke(p.http, p.client, tokens.refreshToken, "refresh_token"));
}

TEST_CASE("a wrong code verifier, a used code and a wrong client secret are refused", "[oidc]") {
  Provider p;
  auto [code, start] = p.code();
  auto wrong = oauth::exchangeCode(p.http, p.client, code, secret(std::string(43, 'A')), core::systemClock());
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == ErrorCode::Unauthorized);
  CHECK(wrong.error().cause == Cause::InvalidGrant);
  CHECK(wrong.error().message.find(code) == std::string::npos);

  auto [code2, start2] = p.code();
  REQUIRE(oauth::exchangeCode(p.http, p.client, code2, start2.codeVerifier, core::systemClock()));
  auto again = oauth::exchangeCode(p.http, p.client, code2, start2.codeVerifier, core::systemClock());
  REQUIRE_FALSE(again);
  CHECK(again.error().cause == Cause::InvalidGrant);

  auto [code3, start3] = p.code();
  auto bad = p.client;
  bad.clientSecret = secret("not-the-secret");
  auto refused = oauth::exchangeCode(p.http, bad, code3, start3.codeVerifier, core::systemClock());
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::Unauthorized);
  CHECK(refused.error().cause == Cause::None);
  CHECK_THAT(refused.error().message, Catch::Contains("invalid_client"));
  CHECK(refused.error().message.find("not-the-secret") == std::string::npos);
}
