#pragma once
// The real OpenID provider of the `oidc` CTest fixture (npm oidc-provider, tests/services/oidc.sh;
// its state directory in CG_TEST_OIDC_STATE) as the tests drive it: its control API (register a
// client, add an account with claims, revoke grants, read the token endpoint's log) and a scripted
// browser (tests/api/oidc_browser.py) that signs in, consents (or denies) and hands back the
// redirect to the client without following it. Header-only: tests that use it link calgate::oauth.

#include "calgate/oauth/client.hpp"
#include "calgate/providers/http/curl_http_client.hpp"
#include "support/form.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace calgate::test {

inline std::string trimmedLine(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

inline std::string uniqueName(const std::string& prefix) {
  static std::mt19937_64 gen{std::random_device{}()};
  return prefix + "-" + std::to_string(gen() % 1000000000);
}

/// The query parameters of a URL, decoded.
inline std::map<std::string, std::string> queryOf(const std::string& url) {
  std::map<std::string, std::string> out;
  const auto q = url.find('?');
  std::string_view rest = q == std::string::npos ? std::string_view() : std::string_view(url).substr(q + 1);
  while (!rest.empty()) {
    const auto pair = rest.substr(0, rest.find('&'));
    const auto eq = pair.find('=');
    out[formDecoded(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : formDecoded(pair.substr(eq + 1));
    rest = pair.size() == rest.size() ? std::string_view() : rest.substr(pair.size() + 1);
  }
  return out;
}

class OidcServer {
 public:
  std::filesystem::path state;
  std::string issuer, controlToken;
  providers::CurlHttpClient http{oauth::httpClientOptions(true)};

  OidcServer() {
    const char* dir = std::getenv("CG_TEST_OIDC_STATE");
    REQUIRE(dir);
    state = dir;
    issuer = trimmedLine(readFile(state / "issuer"));
    controlToken = trimmedLine(readFile(state / "control-token"));
    REQUIRE_FALSE(issuer.empty());
  }

  /// The control API (JSON, bearer token): POST `body`, or GET when it is null.
  nlohmann::json control(const std::string& path, const nlohmann::json& body = nullptr) {
    providers::HttpRequest r;
    r.method = body.is_null() ? "GET" : "POST";
    r.url = issuer + "/__control/" + path;
    r.headers = {{"Authorization", "Bearer " + controlToken}, {"Content-Type", "application/json"}};
    if (!body.is_null()) r.body = body.dump();
    auto response = http.send(r);
    REQUIRE(response);
    INFO(path << ": " << response->body);
    REQUIRE(response->status == 200);
    return nlohmann::json::parse(response->body);
  }

  void registerClient(const std::string& id, const std::string& secret, const std::vector<std::string>& redirectUris) {
    control("clients", {{"client_id", id}, {"client_secret", secret}, {"redirect_uris", redirectUris},
                        {"token_endpoint_auth_method", "client_secret_post"}});
  }

  void addAccount(const std::string& id, const nlohmann::json& claims) {
    control("accounts", {{"id", id}, {"claims", claims}});
  }

  /// Signs in as `account` and approves (or denies) in a scripted browser; the redirect back.
  std::string authorize(const std::string& url, const std::string& account, bool approve = true) {
    const std::string api = std::string(CALGATE_SOURCE_DIR) + "/tests/api";
    const std::string script =
        "import sys; sys.path.insert(0, sys.argv[1]); import oidc_browser; "
        "print(oidc_browser.authorize(sys.argv[2], sys.argv[3], approve=sys.argv[4] == '1'))";
    const TempDir work;  // the child's captured output goes there
    const auto r = run({"/usr/bin/python3", "-c", script, api, url, account, approve ? "1" : "0"}, {}, work.path());
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    return trimmedLine(r.out);
  }
};

}  // namespace calgate::test
