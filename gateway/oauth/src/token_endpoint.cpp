// The token endpoint (authorization_code and refresh_token grants) and revocation (RFC 7009),
// client_secret_post. Request bodies are built in wiped memory and wiped after sending; the token
// response's body and strings are wiped once read.
#include "calgate/oauth/client.hpp"

#include "wire.hpp"

#include "calgate/providers/http/url_guard.hpp"

#include <botan/mem_ops.h>

#include <algorithm>
#include <cctype>

namespace calgate::oauth {
namespace {

using core::ErrorCode;

constexpr std::size_t kMaxTokenResponse = 64 * 1024;
constexpr long long kDefaultExpiresIn = 3600;
constexpr long long kMaxExpiresIn = 10LL * 366 * 86400;

std::string_view view(const Secret& s) { return {s.data(), s.size()}; }

core::Error error(ErrorCode code, std::string message, core::Cause cause = core::Cause::None) {
  return core::Error{code, std::move(message), std::nullopt, cause};
}

void wipe(std::string& s) {
  Botan::secure_scrub_memory(s.data(), s.size());
  s.clear();
}

// Wipes the string members of a JSON object (the tokens of a token response) before it is freed.
void wipeStrings(nlohmann::json& object) {
  for (auto& [name, value] : object.items()) {
    if (value.is_string()) wipe(value.get_ref<std::string&>());
  }
}

// Provider text fit for a message: printable ASCII, every secret that was sent (as sent, and
// form-encoded) blanked out, then cut to `max` bytes.
std::string quoted(std::string_view providerText, const std::vector<std::string_view>& secrets, std::size_t max) {
  static constexpr std::string_view kBlank = "[redacted]";
  std::string text = detail::printable(providerText, providerText.size());
  for (const auto secret : secrets) {
    if (secret.empty()) continue;
    for (const std::string& form : {std::string(secret), detail::formEncode(secret)}) {
      for (auto at = text.find(form); at != std::string::npos; at = text.find(form, at + kBlank.size())) {
        text.replace(at, form.size(), kBlank);
      }
    }
  }
  if (text.size() > max) text.resize(max);
  return text;
}

// The error a token or revocation endpoint's unsuccessful answer stands for (RFC 6749 §5.2).
core::Error endpointError(const providers::HttpResponse& r, const std::string& what,
                          const std::vector<std::string_view>& secrets, const core::Clock& clock) {
  if (r.status == 429 || r.status >= 500) return providers::statusError(r, what, clock);
  if (r.status < 400) return error(ErrorCode::Invalid, what + ": unexpected HTTP " + std::to_string(r.status));
  std::optional<std::string> code, description;
  if (auto j = detail::jsonObject(r.body, kMaxTokenResponse, what)) {
    code = detail::stringMember(*j, "error");
    description = detail::stringMember(*j, "error_description");
  }
  if (!code) {
    const auto kind = r.status == 401 ? ErrorCode::Unauthorized : ErrorCode::Invalid;
    return error(kind, what + ": HTTP " + std::to_string(r.status));
  }
  std::string message = what + ": " + quoted(*code, secrets, 64);
  if (description) message += " (" + quoted(*description, secrets, 300) + ")";
  if (*code == "invalid_grant") return error(ErrorCode::Unauthorized, message, core::Cause::InvalidGrant);
  if (*code == "invalid_client") return error(ErrorCode::Unauthorized, message);
  return error(ErrorCode::Invalid, message);
}

// POSTs `form` to `url`. Refuses a redirect, and an answer that came from elsewhere (an HttpClient
// that followed one: the request has then already gone there).
core::Result<providers::HttpResponse> post(providers::HttpClient& http, const std::string& url, const Secret& form,
                                           const std::string& what) {
  providers::HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  request.body.assign(form.begin(), form.end());
  auto response = http.send(request);
  wipe(request.body);
  if (!response) return response;
  if (response->status >= 300 && response->status < 400) {
    wipe(response->body);
    return core::fail(ErrorCode::Invalid, what + " answered with a redirect (HTTP " + std::to_string(response->status) +
                                              "), which token requests do not follow");
  }
  const auto& effective = response->effectiveUrl;
  if (!effective.empty() && effective != url && effective != providers::withoutUserinfo(url).value_or(url)) {
    wipe(response->body);
    return core::fail(ErrorCode::Invalid, what + " was redirected and the request followed it; its answer is not used "
                                                 "(token requests must not follow redirects: oauth::httpClientOptions)");
  }
  return response;
}

void appendClient(Secret& form, const ClientConfig& client) {
  detail::appendField(form, "client_id", client.clientId);
  if (!client.clientSecret.empty()) detail::appendField(form, "client_secret", view(client.clientSecret));
}

bool isBearer(std::string_view type) {
  return std::equal(type.begin(), type.end(), std::string_view("bearer").begin(), std::string_view("bearer").end(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

core::Result<long long> expiresIn(const nlohmann::json& tokens) {
  const auto it = tokens.find("expires_in");
  if (it == tokens.end() || it->is_null()) return kDefaultExpiresIn;
  if (it->is_number_unsigned() && it->get<unsigned long long>() > 0 &&
      it->get<unsigned long long>() <= static_cast<unsigned long long>(kMaxExpiresIn)) {
    return static_cast<long long>(it->get<unsigned long long>());
  }
  return core::fail(ErrorCode::Invalid, "the token response's expires_in is not a positive integer of seconds");
}

// The optional string members: absent or null is empty, another type is an error.
core::Result<void> optionalStrings(const nlohmann::json& tokens, TokenSet& set) {
  for (const std::string_view name : {"refresh_token", "scope", "id_token"}) {
    const auto it = tokens.find(name);
    if (it == tokens.end() || it->is_null()) continue;
    if (!it->is_string()) {
      return core::fail(ErrorCode::Invalid, "the token response's " + std::string(name) + " is not a string");
    }
    const auto& value = it->get_ref<const std::string&>();
    if (name == "refresh_token") set.refreshToken.assign(value.begin(), value.end());
    if (name == "scope") set.scope = value;
    if (name == "id_token") set.idToken = value;
  }
  return {};
}

core::Result<TokenSet> readTokens(const nlohmann::json& tokens, const core::Clock& clock) {
  const auto access = tokens.find("access_token");
  if (access == tokens.end() || !access->is_string() || access->get_ref<const std::string&>().empty()) {
    return core::fail(ErrorCode::Invalid, "the token response has no access_token");
  }
  const auto type = detail::stringMember(tokens, "token_type");
  if (!type || !isBearer(*type)) {
    return core::fail(ErrorCode::Invalid, "the token response's token_type is missing or not Bearer");
  }
  const auto lifetime = expiresIn(tokens);
  if (!lifetime) return std::unexpected(lifetime.error());
  TokenSet set;
  const auto& value = access->get_ref<const std::string&>();
  set.accessToken.assign(value.begin(), value.end());
  set.tokenType = *type;
  set.expiresAt = clock.nowUnixSeconds() + *lifetime;
  if (auto ok = optionalStrings(tokens, set); !ok) return std::unexpected(ok.error());
  return set;
}

// One token endpoint call: POST, then the tokens or the error the answer stands for.
core::Result<TokenSet> tokenCall(providers::HttpClient& http, const ClientConfig& client, const Secret& form,
                                 const std::vector<std::string_view>& secrets, const core::Clock& clock,
                                 const std::string& what) {
  if (client.endpoints.token.empty()) return core::fail(ErrorCode::Invalid, "no token endpoint");
  auto response = post(http, client.endpoints.token, form, what);
  if (!response) return std::unexpected(response.error());
  if (response->status != 200) {
    auto failure = endpointError(*response, what, secrets, clock);
    wipe(response->body);
    return std::unexpected(std::move(failure));
  }
  auto tokens = detail::jsonObject(response->body, kMaxTokenResponse, "the token response");
  wipe(response->body);
  if (!tokens) return std::unexpected(tokens.error());
  auto set = readTokens(*tokens, clock);
  wipeStrings(*tokens);
  return set;
}

}  // namespace

core::Result<TokenSet> exchangeCode(providers::HttpClient& http, const ClientConfig& client, const std::string& code,
                                    const Secret& codeVerifier, const core::Clock& clock) {
  if (code.empty()) return core::fail(ErrorCode::Invalid, "no authorization code");
  if (codeVerifier.empty()) return core::fail(ErrorCode::Invalid, "no PKCE code verifier");
  Secret form;
  detail::appendField(form, "grant_type", "authorization_code");
  detail::appendField(form, "code", code);
  detail::appendField(form, "redirect_uri", client.redirectUri);
  detail::appendField(form, "code_verifier", view(codeVerifier));
  appendClient(form, client);
  return tokenCall(http, client, form, {code, view(codeVerifier), view(client.clientSecret)}, clock,
                   "the token endpoint (code exchange)");
}

core::Result<TokenSet> refresh(providers::HttpClient& http, const ClientConfig& client, const Secret& refreshToken,
                               const core::Clock& clock) {
  if (refreshToken.empty()) return core::fail(ErrorCode::Invalid, "no refresh token");
  Secret form;
  detail::appendField(form, "grant_type", "refresh_token");
  detail::appendField(form, "refresh_token", view(refreshToken));
  appendClient(form, client);
  return tokenCall(http, client, form, {view(refreshToken), view(client.clientSecret)}, clock,
                   "the token endpoint (refresh)");
}

core::Result<void> revoke(providers::HttpClient& http, const ClientConfig& client, const Secret& token,
                          std::string_view tokenTypeHint) {
  if (client.endpoints.revocation.empty()) return core::fail(ErrorCode::Invalid, "the provider has no revocation endpoint");
  if (token.empty()) return core::fail(ErrorCode::Invalid, "no token to revoke");
  Secret form;
  detail::appendField(form, "token", view(token));
  if (!tokenTypeHint.empty()) detail::appendField(form, "token_type_hint", tokenTypeHint);
  appendClient(form, client);
  const std::string what = "the revocation endpoint";
  auto response = post(http, client.endpoints.revocation, form, what);
  if (!response) return std::unexpected(response.error());
  if (response->status == 200) return {};
  return std::unexpected(endpointError(*response, what, {view(token), view(client.clientSecret)}, core::systemClock()));
}

providers::HttpClientOptions httpClientOptions(bool allowInsecureLoopback) {
  providers::HttpClientOptions options;
  options.maxRedirects = 0;
  options.allowLoopback = allowInsecureLoopback;
  options.allowPlainHttp = allowInsecureLoopback;
  return options;
}

}  // namespace calgate::oauth
