#pragma once
/// OpenID Connect Discovery 1.0: a provider's endpoints from <issuer>/.well-known/openid-configuration.
/// Stateless and thread-safe (the HttpClient decides how concurrent requests are served).

#include "calgate/core/error.hpp"
#include "calgate/providers/http/http_client.hpp"

#include <string>

namespace calgate::oauth {

/// Where a provider's protocol endpoints are. Every URL is absolute; revocation and userinfo are
/// empty when the provider publishes none.
struct Endpoints {
  /// The issuer id_tokens must name; for a Microsoft multi-tenant authority the template
  /// ".../{tenantid}/v2.0" (isTenantTemplate), which verifyIdToken fills in with the token's tid.
  std::string issuer;
  std::string authorization;
  std::string token;
  std::string revocation;
  std::string userinfo;
  std::string jwks;
};

/// Whether `issuer` is Microsoft's multi-tenant issuer template (it holds "{tenantid}").
bool isTenantTemplate(std::string_view issuer);
/// The template with `tenantId` in place of "{tenantid}".
std::string issuerOfTenant(std::string_view issuerTemplate, std::string_view tenantId);

/// GETs <issuer>/.well-known/openid-configuration (one trailing '/' of `issuer` dropped first) and
/// reads its endpoints. The document's `issuer` must equal `issuer` exactly -- or, for Microsoft's
/// multi-tenant authority ".../common/v2.0" or ".../organizations/v2.0", be the template
/// ".../{tenantid}/v2.0" that the authority becomes with its tenant segment put in -- and `issuer` and every
/// endpoint must be https URLs without credentials or fragment (the issuer without a query either);
/// plain http only to a loopback IP literal when `allowInsecureLoopback` (tests). A document that
/// lists code_challenge_methods_supported without S256 is refused (PKCE S256 is all we speak).
/// Errors: Invalid (cause UrlRejected) for an issuer or endpoint URL that breaks those rules;
/// Invalid for a document that is not a JSON object of at most 256 KiB, lacks
/// authorization_endpoint, token_endpoint or jwks_uri, or names another issuer; an unsuccessful
/// status as providers::statusError; transport errors as the HttpClient returns them.
core::Result<Endpoints> discover(providers::HttpClient& http, const std::string& issuer, bool allowInsecureLoopback);

}  // namespace calgate::oauth
