#pragma once
/// The HTTP seam for provider adapters. Production: CurlHttpClient (libcurl); tests may route
/// requests to fakes.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"

#include <botan/secmem.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace calgate::providers {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// Basic credentials (CalDAV app-specific passwords). They follow a redirect only within one
  /// site (see credentialsMayFollow).
  std::optional<std::string> username;
  Botan::secure_vector<char> password;
  /// Ask for a compressed answer (Accept-Encoding): worth it for listings and reports; a write's
  /// answer carries little or nothing, and the header costs every request its bytes.
  bool acceptCompressed = true;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  ///< names lower-cased; last value wins
  std::string body;
  std::string effectiveUrl;  ///< after redirects; never with a user name or password in it
  std::optional<std::string> header(const std::string& lowerName) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  /// Performs the request. Transport failures are errors: Timeout, Unavailable, Invalid for an
  /// oversize response or an unusable redirect, Invalid for a header name or value with CR, LF or
  /// NUL in it (never sent), Invalid with cause AddressRefused for an address the
  /// network guard refuses and with cause UrlRejected for a URL that is not http(s) or carries
  /// credentials. Every HTTP status is a response.
  virtual core::Result<HttpResponse> send(const HttpRequest& request) = 0;
};

/// `raw` with every byte but ALPHA / DIGIT / "-" / "_" / "~" percent-encoded: one URL path segment
/// or query value. '.' too, so a dot segment ("..") taken from an answer never becomes a path step.
std::string percentEncode(std::string_view raw);

/// Seconds from a Retry-After value (delta-seconds or an HTTP-date, RFC 9110 §10.2.3).
std::optional<std::chrono::seconds> parseRetryAfter(const std::string& value, const core::Clock& clock);

/// The error an unsuccessful status stands for: 401/403 Unauthorized, 404 NotFound, 409 Conflict,
/// 410 Gone, 412 PreconditionFailed, 429/503 RateLimited (with Retry-After), other 5xx
/// Unavailable, other 4xx Invalid. `what` names the operation for the message.
core::Error statusError(const HttpResponse& response, const std::string& what, const core::Clock& clock);

}  // namespace calgate::providers
