// The OAuth client against a real OpenID provider (npm oidc-provider, the `oidc` fixture:
// tests/services/oidc.sh; its state dir in CG_TEST_OIDC_STATE). Login and consent are driven by
// tests/api/oidc_browser.py, which hands back the redirect to the client without following it.
#include "calgate/oauth/client.hpp"
#include "calgate/oauth/discovery.hpp"
#include "calgate/oauth/id_token.hpp"
#include "calgate/providers/http/curl_http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

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

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string unique(const std::string& prefix) {
  static std::mt19937_64 gen{std::random_device{}()};
  return prefix + "-" + std::to_string(gen() % 1000000000);
}

std::string formDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> query(const std::string& url) {
  std::map<std::string, std::string> out;
  const auto q = url.find('?');
  std::string_view rest = q == std::string::npos ? std::string_view() : std::string_view(url).substr(q + 1);
  while (!rest.empty()) {
    const auto pair = rest.substr(0, rest.find('&'));
    const auto eq = pair.find('=');
    out[formDecode(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : formDecode(pair.substr(eq + 1));
    rest = pair.size() == rest.size() ? std::string_view() : rest.substr(pair.size() + 1);
  }
  return out;
}

oauth::Secret secret(const std::string& s) { return oauth::Secret(s.begin(), s.end()); }

// The provider of the fixture, a client registered with it and an account with claims.
struct Provider {
  std::filesystem::path state;
  std::string issuer, controlToken;
  providers::CurlHttpClient http{oauth::httpClientOptions(true)};
  oauth::ClientConfig client;
  std::string account = unique("alice");

  Provider() {
    const char* dir = std::getenv("CG_TEST_OIDC_STATE");
    REQUIRE(dir);
    state = dir;
    issuer = trimmed(test::readFile(state / "issuer"));
    controlToken = trimmed(test::readFile(state / "control-token"));
    REQUIRE_FALSE(issuer.empty());
    client.clientId = unique("calgate");
    client.clientSecret = secret(unique("secret-of-the-client"));
    client.redirectUri = kRedirect;
    client.scopes = {"openid", "email", "profile", kCalendarScope};
    const std::string secretText(client.clientSecret.begin(), client.clientSecret.end());
    control("clients", {{"client_id", client.clientId}, {"client_secret", secretText},
                        {"redirect_uris", {kRedirect}}, {"token_endpoint_auth_method", "client_secret_post"}});
    control("accounts", {{"id", account},
                         {"claims", {{"email", account + "@example.test"}, {"email_verified", true},
                                     {"hd", "example.test"}, {"name", "Alice Example"}}}});
    auto endpoints = oauth::discover(http, issuer, true);
    REQUIRE(endpoints);
    client.endpoints = *endpoints;
  }

  // The control API (JSON, bearer token): POST `body`, or GET when it is null.
  json control(const std::string& path, const json& body = nullptr) {
    providers::HttpRequest r;
    r.method = body.is_null() ? "GET" : "POST";
    r.url = issuer + "/__control/" + path;
    r.headers = {{"Authorization", "Bearer " + controlToken}, {"Content-Type", "application/json"}};
    if (!body.is_null()) r.body = body.dump();
    auto response = http.send(r);
    REQUIRE(response);
    INFO(path << ": " << response->body);
    REQUIRE(response->status == 200);
    return json::parse(response->body);
  }

  // Signs in and consents as `account` in a scripted browser; returns the redirect to the client.
  std::string authorize(const std::string& url) {
    const std::string api = std::string(CALGATE_SOURCE_DIR) + "/tests/api";
    const std::string script =
        "import sys; sys.path.insert(0, sys.argv[1]); import oidc_browser; "
        "print(oidc_browser.authorize(sys.argv[2], sys.argv[3]))";
    const test::TempDir work;  // the child's captured output goes there
    const auto r = test::run({"/usr/bin/python3", "-c", script, api, url, account}, {}, work.path());
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    return trimmed(r.out);
  }

  // A whole authorization: start, browser, callback checks; the code and what was started.
  std::pair<std::string, oauth::AuthorizationStart> code() {
    auto start = oauth::startAuthorization(client);
    REQUIRE(start);
    const std::string location = authorize(start->url);
    INFO(location);
    REQUIRE(location.starts_with(kRedirect + "?"));
    auto q = query(location);
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
