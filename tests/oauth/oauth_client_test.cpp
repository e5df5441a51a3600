// The OAuth client against scripted answers: discovery, the authorization URL (PKCE S256, state,
// nonce), the token endpoint (form bodies, client_secret_post, defensive parsing, RFC 6749 §5.2
// errors), revocation, no secret in any message, and redirects (never followed for token requests).
#include "calgate/oauth/client.hpp"
#include "calgate/oauth/discovery.hpp"
#include "support/form.hpp"
#include "support/scripted_server.hpp"
#include "fakes/fake_clock.hpp"
#include "fakes/scripted_http.hpp"

#include <botan/base64.h>
#include <botan/hash.h>

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <thread>

using namespace calgate;
using namespace std::chrono;
using core::Cause;
using core::ErrorCode;

namespace {

const std::string kIssuer = "https://id.example.test";
const std::string kToken = kIssuer + "/token";
const std::string kRevoke = kIssuer + "/revoke";
const std::string kClientSecret = "s3cret-of-the-client/+=";
const std::string kCode = "the-code&with=odd chars%";
const std::string kRefresh = "refresh-token-1/+xyz";

oauth::Secret secret(const std::string& s) { return oauth::Secret(s.begin(), s.end()); }
std::string text(const oauth::Secret& s) { return std::string(s.begin(), s.end()); }

oauth::ClientConfig client() {
  oauth::ClientConfig c;
  c.clientId = "calgate client";
  c.clientSecret = secret(kClientSecret);
  c.redirectUri = "https://gw.example.test/oauth/callback?x=1";
  c.scopes = {"openid", "email", "https://www.googleapis.com/auth/calendar.events"};
  c.endpoints = {kIssuer, kIssuer + "/auth", kToken, kRevoke, kIssuer + "/me", kIssuer + "/jwks"};
  return c;
}

using test::formDecoded;

std::multimap<std::string, std::string> fields(std::string_view form) {
  std::multimap<std::string, std::string> out;
  while (!form.empty()) {
    const auto amp = form.find('&');
    const auto pair = form.substr(0, amp);
    const auto eq = pair.find('=');
    out.emplace(formDecoded(pair.substr(0, eq)), eq == std::string_view::npos ? "" : formDecoded(pair.substr(eq + 1)));
    form = amp == std::string_view::npos ? std::string_view() : form.substr(amp + 1);
  }
  return out;
}

std::string one(const std::multimap<std::string, std::string>& f, const std::string& name) {
  REQUIRE(f.count(name) == 1);
  return f.find(name)->second;
}

std::string base64url(const std::uint8_t* data, std::size_t size) {
  std::string s = Botan::base64_encode(data, size);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return s;
}

std::string discoveryDocument(const std::string& issuer, const std::string& base) {
  return nlohmann::json{{"issuer", issuer},
                        {"authorization_endpoint", base + "/auth"},
                        {"token_endpoint", base + "/token"},
                        {"revocation_endpoint", base + "/token/revocation"},
                        {"userinfo_endpoint", base + "/me"},
                        {"jwks_uri", base + "/jwks"},
                        {"code_challenge_methods_supported", {"S256"}},
                        {"something_new", {1, 2, 3}}}
      .dump();
}

const std::string kTokens =
    R"({"access_token":"at-1","token_type":"Bearer","expires_in":1800,"refresh_token":"rt-2","scope":"openid email",
        "id_token":"h.p.s","unknown":{"x":[1]}})";

test::FakeClock clock0() { return test::FakeClock::at(std::chrono::year(2026) / 6 / 1, 12h); }

}  // namespace

TEST_CASE("discovery reads the endpoints of a provider whose document names the issuer exactly", "[oauth][discovery]") {
  test::ScriptedHttp http;
  http.expect("GET", kIssuer + "/.well-known/openid-configuration", 200, discoveryDocument(kIssuer, kIssuer));
  auto e = oauth::discover(http, kIssuer, false);
  REQUIRE(e);
  CHECK(e->issuer == kIssuer);
  CHECK(e->authorization == kIssuer + "/auth");
  CHECK(e->token == kIssuer + "/token");
  CHECK(e->revocation == kIssuer + "/token/revocation");
  CHECK(e->userinfo == kIssuer + "/me");
  CHECK(e->jwks == kIssuer + "/jwks");

  SECTION("a trailing slash of the issuer is dropped for the URL, not for the comparison") {
    test::ScriptedHttp h;
    h.expect("GET", kIssuer + "/.well-known/openid-configuration", 200, discoveryDocument(kIssuer, kIssuer));
    auto other = oauth::discover(h, kIssuer + "/", false);
    REQUIRE_FALSE(other);
    CHECK(other.error().code == ErrorCode::Invalid);
    CHECK_THAT(other.error().message, Catch::Contains("another issuer"));
  }
}

TEST_CASE("discovery refuses another issuer, insecure endpoints, missing ones and no S256", "[oauth][discovery]") {
  const auto refused = [](const std::string& issuer, const std::string& document, bool loopback = false) {
    test::ScriptedHttp http;
    http.expect("GET", issuer + "/.well-known/openid-configuration", 200, document);
    auto e = oauth::discover(http, issuer, loopback);
    REQUIRE_FALSE(e);
    return e.error();
  };
  CHECK(refused(kIssuer, discoveryDocument("https://evil.example.test", kIssuer)).code == ErrorCode::Invalid);
  auto http = refused(kIssuer, discoveryDocument(kIssuer, "http://id.example.test"));
  CHECK(http.cause == Cause::UrlRejected);
  CHECK_THAT(http.message, Catch::Contains("authorization_endpoint") && Catch::Contains("https"));
  // plain http only to a loopback IP literal, and only when allowed
  CHECK(refused(kIssuer, discoveryDocument(kIssuer, "http://id.example.test"), true).cause == Cause::UrlRejected);
  auto noToken = nlohmann::json::parse(discoveryDocument(kIssuer, kIssuer));
  noToken.erase("token_endpoint");
  CHECK_THAT(refused(kIssuer, noToken.dump()).message, Catch::Contains("token_endpoint"));
  auto plain = nlohmann::json::parse(discoveryDocument(kIssuer, kIssuer));
  plain["code_challenge_methods_supported"] = {"plain"};
  CHECK_THAT(refused(kIssuer, plain.dump()).message, Catch::Contains("S256"));
  auto creds = nlohmann::json::parse(discoveryDocument(kIssuer, kIssuer));
  creds["jwks_uri"] = "https://user:pw@id.example.test/jwks";
  CHECK(refused(kIssuer, creds.dump()).cause == Cause::UrlRejected);
  CHECK(refused(kIssuer, "[]").code == ErrorCode::Invalid);
  CHECK(refused(kIssuer, "not json").code == ErrorCode::Invalid);

  test::ScriptedHttp none;  // nothing is requested for an http issuer
  CHECK(oauth::discover(none, "http://id.example.test", false).error().cause == Cause::UrlRejected);
  CHECK(oauth::discover(none, "http://127.0.0.1:8080", false).error().cause == Cause::UrlRejected);
  test::ScriptedHttp loop;
  loop.expect("GET", "http://127.0.0.1:8080/.well-known/openid-configuration", 200,
              discoveryDocument("http://127.0.0.1:8080", "http://127.0.0.1:8080"));
  CHECK(oauth::discover(loop, "http://127.0.0.1:8080", true));

  test::ScriptedHttp gone;
  gone.expect("GET", kIssuer + "/.well-known/openid-configuration", 404, "");
  CHECK(oauth::discover(gone, kIssuer, false).error().code == ErrorCode::NotFound);
}

TEST_CASE("the authorization URL carries PKCE S256, state, nonce, the scopes and the extra parameters",
          "[oauth][authorize]") {
  auto c = client();
  c.endpoints.authorization = kIssuer + "/auth?tenant=x";
  c.extraAuthorizationParams = {{"access_type", "offline"}, {"prompt", "consent"}};
  auto start = oauth::startAuthorization(c);
  REQUIRE(start);
  REQUIRE(start->url.starts_with(kIssuer + "/auth?tenant=x&"));
  const auto q = fields(start->url.substr(start->url.find('?') + 1));
  CHECK(one(q, "tenant") == "x");
  CHECK(one(q, "response_type") == "code");
  CHECK(one(q, "client_id") == "calgate client");
  CHECK(one(q, "redirect_uri") == "https://gw.example.test/oauth/callback?x=1");
  CHECK(one(q, "scope") == "openid email https://www.googleapis.com/auth/calendar.events");
  CHECK(one(q, "state") == start->state);
  CHECK(one(q, "nonce") == start->nonce);
  CHECK(one(q, "code_challenge_method") == "S256");
  CHECK(one(q, "access_type") == "offline");
  CHECK(one(q, "prompt") == "consent");
  CHECK(q.count("code_verifier") == 0);
  CHECK(start->url.find(text(start->codeVerifier)) == std::string::npos);

  CHECK(start->state.size() == 43);
  CHECK(start->nonce.size() == 43);
  REQUIRE(start->codeVerifier.size() == 43);  // 32 bytes, base64url
  for (char ch : text(start->codeVerifier)) CHECK((std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_'));
  auto sha = Botan::HashFunction::create_or_throw("SHA-256");
  sha->update(reinterpret_cast<const std::uint8_t*>(start->codeVerifier.data()), start->codeVerifier.size());
  const auto digest = sha->final();
  CHECK(one(q, "code_challenge") == base64url(digest.data(), digest.size()));

  auto again = oauth::startAuthorization(c);
  REQUIRE(again);
  CHECK(again->state != start->state);
  CHECK(again->nonce != start->nonce);
  CHECK(again->codeVerifier != start->codeVerifier);
}

TEST_CASE("extra authorization parameters may not replace the protocol's own", "[oauth][authorize]") {
  for (const std::string name : {"state", "code_challenge_method", "redirect_uri", "request_uri"}) {
    auto c = client();
    c.extraAuthorizationParams = {{name, "mine"}};
    auto start = oauth::startAuthorization(c);
    REQUIRE_FALSE(start);
    CHECK(start.error().code == ErrorCode::Invalid);
    CHECK_THAT(start.error().message, Catch::Contains(name));
  }
  auto c = client();
  c.endpoints.authorization.clear();
  CHECK_FALSE(oauth::startAuthorization(c));
}

TEST_CASE("the code exchange posts a form with client_secret_post and reads the tokens", "[oauth][token]") {
  auto clock = clock0();
  test::ScriptedHttp http;
  http.expect("POST", kToken, 200, kTokens, [](const providers::HttpRequest& r) {
    CHECK(std::find(r.headers.begin(), r.headers.end(),
                    std::pair<std::string, std::string>("Content-Type", "application/x-www-form-urlencoded")) !=
          r.headers.end());
    CHECK_FALSE(r.username);  // client_secret_post, not basic
    for (char ch : r.body) CHECK((std::isalnum(static_cast<unsigned char>(ch)) || std::string_view("-._~%+=&").find(ch) != std::string_view::npos));
    const auto f = fields(r.body);
    CHECK(f.size() == 6);
    CHECK(one(f, "grant_type") == "authorization_code");
    CHECK(one(f, "code") == kCode);
    CHECK(one(f, "redirect_uri") == "https://gw.example.test/oauth/callback?x=1");
    CHECK(one(f, "code_verifier") == "verifier-43");
    CHECK(one(f, "client_id") == "calgate client");
    CHECK(one(f, "client_secret") == kClientSecret);
  });
  auto tokens = oauth::exchangeCode(http, client(), kCode, secret("verifier-43"), clock);
  REQUIRE(tokens);
  CHECK(http.done());
  CHECK(text(tokens->accessToken) == "at-1");
  CHECK(text(tokens->refreshToken) == "rt-2");
  CHECK(tokens->expiresAt == clock.nowUnixSeconds() + 1800);
  CHECK(tokens->scope == "openid email");
  CHECK(tokens->tokenType == "Bearer");
  CHECK(tokens->idToken == "h.p.s");
}

TEST_CASE("a refresh posts the refresh token; an answer without one leaves it empty", "[oauth][token]") {
  auto clock = clock0();
  test::ScriptedHttp http;
  http.expect("POST", kToken, 200, R"({"access_token":"at-2","token_type":"bearer"})",
              [](const providers::HttpRequest& r) {
                const auto f = fields(r.body);
                CHECK(f.size() == 4);
                CHECK(one(f, "grant_type") == "refresh_token");
                CHECK(one(f, "refresh_token") == kRefresh);
                CHECK(one(f, "client_id") == "calgate client");
                CHECK(one(f, "client_secret") == kClientSecret);
              });
  auto tokens = oauth::refresh(http, client(), secret(kRefresh), clock);
  REQUIRE(tokens);
  CHECK(text(tokens->accessToken) == "at-2");
  CHECK(tokens->refreshToken.empty());
  CHECK(tokens->expiresAt == clock.nowUnixSeconds() + 3600);  // no expires_in: an hour
  CHECK(tokens->tokenType == "bearer");
  CHECK(tokens->scope.empty());
}

TEST_CASE("malformed, oversized and incomplete token responses are refused", "[oauth][token]") {
  auto clock = clock0();
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"not json", "not JSON"},
      {R"(["access_token"])", "not a JSON object"},
      {R"({"token_type":"Bearer"})", "access_token"},
      {R"({"access_token":"","token_type":"Bearer"})", "access_token"},
      {R"({"access_token":42,"token_type":"Bearer"})", "access_token"},
      {R"({"access_token":"a"})", "token_type"},
      {R"({"access_token":"a","token_type":"mac"})", "token_type"},
      {R"({"access_token":"a","token_type":"Bearer","expires_in":0})", "expires_in"},
      {R"({"access_token":"a","token_type":"Bearer","expires_in":-5})", "expires_in"},
      {R"({"access_token":"a","token_type":"Bearer","expires_in":"3600"})", "expires_in"},
      {R"({"access_token":"a","token_type":"Bearer","expires_in":1.5})", "expires_in"},
      {R"({"access_token":"a","token_type":"Bearer","refresh_token":7})", "refresh_token"},
      {R"({"access_token":"a","token_type":"Bearer","id_token":{}})", "id_token"},
      {R"({"access_token":")" + std::string(70 * 1024, 'x') + R"(","token_type":"Bearer"})", "64 KiB"},
  };
  for (const auto& [body, named] : bad) {
    test::ScriptedHttp http;
    http.expect("POST", kToken, 200, body);
    auto tokens = oauth::exchangeCode(http, client(), kCode, secret("v"), clock);
    INFO(body.substr(0, 80));
    REQUIRE_FALSE(tokens);
    CHECK(tokens.error().code == ErrorCode::Invalid);
    CHECK_THAT(tokens.error().message, Catch::Contains(named));
  }
}

TEST_CASE("token endpoint errors: invalid_grant is InvalidGrant, the rest by RFC 6749 5.2 and status", "[oauth][token]") {
  auto clock = clock0();
  const auto answer = [&](long status, const std::string& body) {
    test::ScriptedHttp http;
    http.expect("POST", kToken, status, body);
    auto tokens = oauth::refresh(http, client(), secret(kRefresh), clock);
    REQUIRE_FALSE(tokens);
    return tokens.error();
  };
  auto grant = answer(400, R"({"error":"invalid_grant","error_description":"grant request is invalid"})");
  CHECK(grant.code == ErrorCode::Unauthorized);
  CHECK(grant.cause == Cause::InvalidGrant);
  CHECK_THAT(grant.message, Catch::Contains("invalid_grant") && Catch::Contains("grant request is invalid"));
  auto clientErr = answer(401, R"({"error":"invalid_client"})");
  CHECK(clientErr.code == ErrorCode::Unauthorized);
  CHECK(clientErr.cause == Cause::None);
  auto request = answer(400, R"({"error":"invalid_request","error_description":"missing parameter"})");
  CHECK(request.code == ErrorCode::Invalid);
  CHECK_THAT(request.message, Catch::Contains("invalid_request"));
  CHECK(answer(400, "<html>bad</html>").code == ErrorCode::Invalid);
  CHECK(answer(401, "").code == ErrorCode::Unauthorized);
  CHECK(answer(500, R"({"error":"server_error"})").code == ErrorCode::Unavailable);
  CHECK(answer(503, "").code == ErrorCode::RateLimited);
  test::ScriptedHttp http;
  http.expect("POST", kToken, 429, R"({"error":"slow_down"})");
  // ScriptedHttp has no headers; statusError reads Retry-After when there is one
  auto limited = oauth::refresh(http, client(), secret(kRefresh), clock);
  REQUIRE_FALSE(limited);
  CHECK(limited.error().code == ErrorCode::RateLimited);
  auto redirected = answer(307, "");
  CHECK(redirected.code == ErrorCode::Invalid);
  CHECK_THAT(redirected.message, Catch::Contains("redirect"));
}

TEST_CASE("no secret of a request reaches an error message, not even when the provider echoes it",
          "[oauth][token][secrets]") {
  auto clock = clock0();
  const std::string verifier = "the-verifier-xyz";
  const std::string echo = "refresh token " + kRefresh + " for client secret " + kClientSecret + " (code " + kCode +
                           ", verifier " + verifier + ", form-encoded: s3cret-of-the-client%2F%2B%3D)";
  const std::vector<std::pair<long, std::string>> answers = {
      {400, nlohmann::json{{"error", "invalid_grant"}, {"error_description", echo}}.dump()},
      {400, nlohmann::json{{"error", kRefresh + " " + kCode}, {"error_description", echo}}.dump()},
      {400, nlohmann::json{{"error", "invalid_grant"},  // control characters do not hide a secret
                           {"error_description", "s3cret-of-\x01the-client/+= refresh-\x7ftoken-1/+xyz the-\tcode"
                                                 "&with=odd chars% the-verifier-\nxyz"}}.dump()},
      {401, nlohmann::json{{"error", "invalid_client"}, {"error_description", echo}}.dump()},
      {400, echo},
      {500, echo},
      {200, echo},
      {200, nlohmann::json{{"access_token", kRefresh}, {"token_type", kClientSecret}}.dump()},
      {200, nlohmann::json{{"access_token", "a"}, {"token_type", "Bearer"}, {"expires_in", kRefresh}}.dump()},
  };
  const std::string secretEncoded = "s3cret-of-the-client%2F%2B%3D";
  const std::string refreshEncoded = "refresh-token-1%2F%2Bxyz";
  struct Call {
    std::string url;
    std::function<core::Error(test::ScriptedHttp&)> run;
    std::vector<std::string> secrets;  // what this request carried
  };
  const std::vector<Call> calls = {
      {kToken, [&](test::ScriptedHttp& h) { return oauth::refresh(h, client(), secret(kRefresh), clock).error(); },
       {kRefresh, refreshEncoded, kClientSecret, secretEncoded}},
      {kToken,
       [&](test::ScriptedHttp& h) { return oauth::exchangeCode(h, client(), kCode, secret(verifier), clock).error(); },
       {kCode, verifier, kClientSecret, secretEncoded}},
      {kRevoke,
       [&](test::ScriptedHttp& h) { return oauth::revoke(h, client(), secret(kRefresh), "refresh_token").error(); },
       {kRefresh, refreshEncoded, kClientSecret, secretEncoded}},
  };
  for (const auto& [status, body] : answers) {
    for (const auto& call : calls) {
      test::ScriptedHttp http;
      // revocation succeeds on 200 whatever the body: give it a 400 with the same body instead
      http.expect("POST", call.url, call.url == kRevoke && status == 200 ? 400 : status, body);
      const auto e = call.run(http);
      INFO(e.message);
      CHECK(http.done());
      CHECK(e.code != ErrorCode::Internal);
      for (const auto& s : call.secrets) CHECK(e.message.find(s) == std::string::npos);
    }
  }
}

TEST_CASE("a secret that is part of the blank does not keep the redaction going", "[oauth][token][secrets]") {
  auto clock = clock0();
  auto c = client();
  c.clientSecret = secret("e");
  test::ScriptedHttp http;
  http.expect("POST", kToken, 400, R"({"error":"invalid_grant","error_description":"here, there"})");
  auto tokens = oauth::refresh(http, c, secret(kRefresh), clock);
  REQUIRE_FALSE(tokens);
  CHECK(tokens.error().cause == Cause::InvalidGrant);
  CHECK(tokens.error().message.find("here") == std::string::npos);
}

TEST_CASE("revocation posts the token with its hint; 200 is success", "[oauth][revoke]") {
  test::ScriptedHttp http;
  http.expect("POST", kRevoke, 200, "", [](const providers::HttpRequest& r) {
    const auto f = fields(r.body);
    CHECK(f.size() == 4);
    CHECK(one(f, "token") == kRefresh);
    CHECK(one(f, "token_type_hint") == "refresh_token");
    CHECK(one(f, "client_id") == "calgate client");
    CHECK(one(f, "client_secret") == kClientSecret);
  });
  CHECK(oauth::revoke(http, client(), secret(kRefresh), "refresh_token"));
  http.expect("POST", kRevoke, 400, R"({"error":"unsupported_token_type"})");
  auto refused = oauth::revoke(http, client(), secret(kRefresh), "refresh_token");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::Invalid);
  CHECK_THAT(refused.error().message, Catch::Contains("unsupported_token_type"));
  auto c = client();
  c.endpoints.revocation.clear();
  CHECK(oauth::revoke(http, c, secret(kRefresh), "refresh_token").error().code == ErrorCode::Invalid);
  CHECK(http.done());
}

namespace {

// An HttpClient that answers from elsewhere than asked: one that followed a redirect.
class RedirectFollowing final : public providers::HttpClient {
 public:
  core::Result<providers::HttpResponse> send(const providers::HttpRequest& request) override {
    providers::HttpResponse r;
    r.status = 200;
    r.body = kTokens;
    r.effectiveUrl = request.url + "/elsewhere";
    return r;
  }
};

}  // namespace

TEST_CASE("token requests never follow a redirect", "[oauth][redirect]") {
  auto clock = clock0();
  SECTION("an answer from another URL than the endpoint is not used") {
    RedirectFollowing http;
    auto tokens = oauth::exchangeCode(http, client(), kCode, secret("v"), clock);
    REQUIRE_FALSE(tokens);
    CHECK(tokens.error().code == ErrorCode::Invalid);
    CHECK_THAT(tokens.error().message, Catch::Contains("redirected"));
  }
  SECTION("with httpClientOptions the CurlHttpClient does not send the form on to the redirect target") {
    test::ScriptedServer target({"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(kTokens.size()) + "\r\nConnection: close\r\n\r\n" + kTokens});
    test::ScriptedServer endpoint({"HTTP/1.1 307 Temporary Redirect\r\nLocation: " + target.url() +
                             "/token\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"});
    auto c = client();
    c.endpoints.token = endpoint.url() + "/token";
    providers::CurlHttpClient http(oauth::httpClientOptions(true));
    auto tokens = oauth::exchangeCode(http, c, kCode, secret("v"), clock);
    REQUIRE_FALSE(tokens);
    CHECK(tokens.error().code == ErrorCode::Invalid);
    REQUIRE(endpoint.received.size() == 1);
    CHECK_THAT(endpoint.received[0].body, Catch::Contains("client_secret="));
    CHECK(target.received.empty());
    CHECK(oauth::httpClientOptions(false).maxRedirects == 0);
    CHECK_FALSE(oauth::httpClientOptions(false).allowLoopback);
  }
}

TEST_CASE("discovery of Microsoft's multi-tenant authority accepts its {tenantid} issuer template, nothing looser",
          "[oauth][discovery]") {
  const std::string base = "https://login.example.test";
  for (const std::string tenant : {"common", "organizations"}) {
    test::ScriptedHttp http;
    const std::string authority = base + "/" + tenant + "/v2.0";
    http.expect("GET", authority + "/.well-known/openid-configuration", 200, discoveryDocument(base + "/{tenantid}/v2.0", base));
    auto e = oauth::discover(http, authority, false);
    REQUIRE(e);
    CHECK(e->issuer == base + "/{tenantid}/v2.0");
    CHECK(oauth::isTenantTemplate(e->issuer));
  }
  const auto accepted = [&](const std::string& authority, const std::string& named) {
    test::ScriptedHttp http;
    http.expect("GET", authority + "/.well-known/openid-configuration", 200, discoveryDocument(named, base));
    return oauth::discover(http, authority, false).has_value();
  };
  CHECK_FALSE(accepted(base + "/common/v2.0", "https://evil.example.test/{tenantid}/v2.0"));  // another host's template
  CHECK_FALSE(accepted(base + "/consumers/v2.0", base + "/{tenantid}/v2.0"));  // only common and organizations
  CHECK_FALSE(accepted(base + "/v2.0", base + "/{tenantid}/v2.0"));
  CHECK(oauth::issuerOfTenant(base + "/{tenantid}/v2.0", "abc") == base + "/abc/v2.0");
}
