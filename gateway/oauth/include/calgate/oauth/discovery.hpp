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
  std::string issuer;
  std::string authorization;
  std::string token;
  std::string revocation;
  std::string userinfo;
  std::string jwks;
};

/// GETs <issuer>/.well-known/openid-configuration (one trailing '/' of `issuer` dropped first) and
/// reads its endpoints. The document's `issuer` must equal `issuer` exactly, and `issuer` and every
/// endpoint must be https URLs without credentials or fragment (the issuer without a query either);
/// plain http only to a loopback IP literal when `allowInsecureLoopback` (tests). A document that
/// lists code_challenge_methods_supported without S256 is refused (PKCE S256 is all we speak).
/// Errors: Invalid (cause UrlRejected) for an issuer or endpoint URL that breaks those rules;
/// Invalid for a document that is not a JSON object of at most 256 KiB, lacks
/// authorization_endpoint, token_endpoint or jwks_uri, or names another issuer; an unsuccessful
/// status as providers::statusError; transport errors as the HttpClient returns them.
core::Result<Endpoints> discover(providers::HttpClient& http, const std::string& issuer, bool allowInsecureLoopback);

}  // namespace calgate::oauth
