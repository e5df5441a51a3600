#include "calgate/oauth/client.hpp"

#include "wire.hpp"

#include <botan/hash.h>
#include <botan/mem_ops.h>
#include <botan/system_rng.h>

#include <algorithm>
#include <array>

namespace calgate::oauth {
namespace {

using core::ErrorCode;

// What startAuthorization sets itself, and what would override it (a request object, RFC 9101).
constexpr std::array<std::string_view, 10> kOwnParams = {
    "response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
    "code_challenge_method", "request", "request_uri"};

// 32 bytes of the system RNG, base64url: 43 characters.
std::string randomToken() {
  Botan::secure_vector<std::uint8_t> bytes(32);
  Botan::system_rng().randomize(bytes.data(), bytes.size());
  return detail::base64url(bytes.data(), bytes.size());
}

std::string s256(const Secret& verifier) {
  auto sha = Botan::HashFunction::create_or_throw("SHA-256");
  sha->update(reinterpret_cast<const std::uint8_t*>(verifier.data()), verifier.size());
  const auto digest = sha->final();
  return detail::base64url(digest.data(), digest.size());
}

core::Result<void> checkClient(const ClientConfig& client) {
  if (client.endpoints.authorization.empty()) return core::fail(ErrorCode::Invalid, "no authorization endpoint");
  if (client.endpoints.authorization.find('#') != std::string::npos) {
    return core::fail(ErrorCode::Invalid, "the authorization endpoint has a fragment", core::Cause::UrlRejected);
  }
  if (client.clientId.empty()) return core::fail(ErrorCode::Invalid, "no client id");
  if (client.redirectUri.empty()) return core::fail(ErrorCode::Invalid, "no redirect URI");
  for (const auto& [name, value] : client.extraAuthorizationParams) {
    if (name.empty()) return core::fail(ErrorCode::Invalid, "an extra authorization parameter without a name");
    if (std::find(kOwnParams.begin(), kOwnParams.end(), name) != kOwnParams.end()) {
      return core::fail(ErrorCode::Invalid, "the extra authorization parameter " + detail::printable(name, 64) +
                                                " would replace one of the protocol's own");
    }
  }
  return {};
}

std::string joined(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (s.empty()) continue;
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

}  // namespace

core::Result<AuthorizationStart> startAuthorization(const ClientConfig& client) {
  if (auto ok = checkClient(client); !ok) return std::unexpected(ok.error());
  AuthorizationStart start;
  start.state = randomToken();
  start.nonce = randomToken();
  std::string verifier = randomToken();
  start.codeVerifier.assign(verifier.begin(), verifier.end());
  Botan::secure_scrub_memory(verifier.data(), verifier.size());
  std::vector<std::pair<std::string, std::string>> params = {
      {"response_type", "code"},       {"client_id", client.clientId}, {"redirect_uri", client.redirectUri},
      {"scope", joined(client.scopes)}, {"state", start.state},         {"nonce", start.nonce},
      {"code_challenge", s256(start.codeVerifier)}, {"code_challenge_method", "S256"}};
  params.insert(params.end(), client.extraAuthorizationParams.begin(), client.extraAuthorizationParams.end());
  start.url = client.endpoints.authorization;
  char sep = start.url.find('?') == std::string::npos ? '?' : '&';
  if (start.url.ends_with('?') || start.url.ends_with('&')) sep = '\0';
  for (const auto& [name, value] : params) {
    if (sep != '\0') start.url += sep;
    start.url += detail::formEncode(name) + "=" + detail::formEncode(value);
    sep = '&';
  }
  return start;
}

}  // namespace calgate::oauth
