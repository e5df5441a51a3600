#include "calgate/oauth/discovery.hpp"

#include "wire.hpp"

#include <algorithm>

namespace calgate::oauth {
namespace {

using core::ErrorCode;

constexpr std::size_t kMaxDocument = 256 * 1024;

// The endpoint `member` of the document: required ones must be there; all must pass the URL rules.
core::Result<std::string> endpoint(const nlohmann::json& doc, std::string_view member, bool required,
                                   bool allowInsecureLoopback) {
  const auto it = doc.find(member);
  if (it == doc.end() || it->is_null()) {
    if (!required) return std::string();
    return core::fail(ErrorCode::Invalid, "the provider's discovery document has no " + std::string(member));
  }
  if (!it->is_string()) {
    return core::fail(ErrorCode::Invalid, "the provider's discovery document: " + std::string(member) + " is not a string");
  }
  auto url = it->get<std::string>();
  if (auto ok = detail::checkEndpointUrl(url, allowInsecureLoopback, "the provider's " + std::string(member)); !ok) {
    return std::unexpected(ok.error());
  }
  return url;
}

core::Result<void> checkPkce(const nlohmann::json& doc) {
  const auto it = doc.find("code_challenge_methods_supported");
  if (it == doc.end()) return {};
  if (it->is_array() && std::any_of(it->begin(), it->end(), [](const auto& m) { return m == "S256"; })) return {};
  return core::fail(ErrorCode::Invalid, "the provider does not support PKCE with S256 (code_challenge_methods_supported)");
}

/// The tenant path segment of a Microsoft authority ("common" of ".../common/v2.0"), "" otherwise.
std::string tenantSegment(const std::string& issuer) {
  for (const char* tenant : {"common", "organizations"}) {
    const std::string part = std::string("/") + tenant + "/v2.0";
    if (issuer.size() > part.size() && issuer.ends_with(part)) return tenant;
  }
  return {};
}

core::Result<Endpoints> readDocument(const nlohmann::json& doc, const std::string& issuer, bool allowInsecureLoopback) {
  const auto named = detail::stringMember(doc, "issuer");
  if (!named) return core::fail(ErrorCode::Invalid, "the provider's discovery document names no issuer");
  // Microsoft's multi-tenant authorities (".../common/v2.0", ".../organizations/v2.0") publish the
  // issuer as a template, ".../{tenantid}/v2.0": the id_token's tid fills it in (id_token.hpp)
  const bool tenantTemplate = isTenantTemplate(*named) && issuerOfTenant(*named, tenantSegment(issuer)) == issuer;
  if (*named != issuer && !tenantTemplate) {
    return core::fail(ErrorCode::Invalid, "the provider's discovery document names another issuer (\"" +
                                              detail::printable(*named, 200) + "\", expected \"" + issuer + "\")");
  }
  if (auto ok = checkPkce(doc); !ok) return std::unexpected(ok.error());
  Endpoints e;
  e.issuer = tenantTemplate ? *named : issuer;
  struct Field {
    std::string Endpoints::*target;
    std::string_view member;
    bool required;
  };
  for (const Field& f : {Field{&Endpoints::authorization, "authorization_endpoint", true},
                         Field{&Endpoints::token, "token_endpoint", true},
                         Field{&Endpoints::revocation, "revocation_endpoint", false},
                         Field{&Endpoints::userinfo, "userinfo_endpoint", false},
                         Field{&Endpoints::jwks, "jwks_uri", true}}) {
    auto url = endpoint(doc, f.member, f.required, allowInsecureLoopback);
    if (!url) return std::unexpected(url.error());
    e.*f.target = std::move(*url);
  }
  return e;
}

}  // namespace

bool isTenantTemplate(std::string_view issuer) { return issuer.find("{tenantid}") != std::string_view::npos; }

std::string issuerOfTenant(std::string_view issuerTemplate, std::string_view tenantId) {
  std::string out(issuerTemplate);
  if (const auto at = out.find("{tenantid}"); at != std::string::npos) out.replace(at, 10, tenantId);
  return out;
}

core::Result<Endpoints> discover(providers::HttpClient& http, const std::string& issuer, bool allowInsecureLoopback) {
  if (auto ok = detail::checkEndpointUrl(issuer, allowInsecureLoopback, "the issuer"); !ok) {
    return std::unexpected(ok.error());
  }
  if (issuer.find('?') != std::string::npos) {
    return core::fail(ErrorCode::Invalid, "the issuer has a query", core::Cause::UrlRejected);
  }
  std::string base = issuer;
  if (base.ends_with('/')) base.pop_back();
  providers::HttpRequest request;
  request.method = "GET";
  request.url = base + "/.well-known/openid-configuration";
  request.headers.emplace_back("Accept", "application/json");
  auto response = http.send(request);
  if (!response) return std::unexpected(response.error());
  if (response->status != 200) {
    return std::unexpected(providers::statusError(*response, "OpenID discovery at " + issuer, core::systemClock()));
  }
  auto doc = detail::jsonObject(response->body, kMaxDocument, "the provider's discovery document");
  if (!doc) return std::unexpected(doc.error());
  return readDocument(*doc, issuer, allowInsecureLoopback);
}

}  // namespace calgate::oauth
