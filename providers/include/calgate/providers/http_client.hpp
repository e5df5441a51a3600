#pragma once
/// The HTTP seam for provider adapters. Production: CurlHttpClient (libcurl); tests may route
/// requests to fakes.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"

#include <botan/secmem.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
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
  /// Performs the request. Transport failures are errors (Timeout, Unavailable, Invalid for a
  /// refused address, oversize response or a URL with credentials in it); every HTTP status is a
  /// response.
  virtual core::Result<HttpResponse> send(const HttpRequest& request) = 0;
};

struct HttpClientOptions {
  std::chrono::milliseconds connectTimeout{5000};
  std::chrono::milliseconds totalTimeout{30000};
  std::size_t maxResponseBytes = 16 * 1024 * 1024;
  long maxRedirects = 5;
  /// A user-supplied URL must not become a way into the local network: connections to loopback,
  /// private (RFC 1918, fc00::/7), link-local, CGNAT and unspecified addresses are refused unless
  /// allowed here (the tests allow loopback). Checked on the address actually connected to, so
  /// redirects and DNS rebinding cannot get around it.
  bool allowLoopback = false;
  bool allowPrivateNetworks = false;
  std::string userAgent = "calgate/0.1";
  /// Outgoing proxy URL; empty (the default) means none. Proxy variables in the environment
  /// (http_proxy, ALL_PROXY...) are ignored: through a proxy, the guard above would only see the
  /// proxy's address, not the target's.
  std::string proxy;
};

/// libcurl: HTTP and HTTPS only, TLS 1.2 minimum with verification, capped response size,
/// connection reuse. Redirects (at most maxRedirects) are followed by the client itself: the
/// method and body are kept except on 303, never from https to http. Thread-safe (requests are serialised on one connection cache).
class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(HttpClientOptions options = {});
  ~CurlHttpClient() override;
  core::Result<HttpResponse> send(const HttpRequest& request) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Seconds from a Retry-After value (delta-seconds or an HTTP-date, RFC 9110 §10.2.3).
std::optional<std::chrono::seconds> parseRetryAfter(const std::string& value, const core::Clock& clock);

/// The error an unsuccessful status stands for: 401/403 Unauthorized, 404 NotFound, 409 Conflict,
/// 410 Gone, 412 PreconditionFailed, 429/503 RateLimited (with Retry-After), other 5xx
/// Unavailable, other 4xx Invalid. `what` names the operation for the message.
core::Error statusError(const HttpResponse& response, const std::string& what, const core::Clock& clock);

/// Whether an absolute URL carries a userinfo part ("https://user:secret@host/"); a URL that cannot
/// be parsed counts as having one if its authority holds an '@'.
bool urlHasUserinfo(const std::string& url);
/// The URL without its userinfo part (user, password, login options); nullopt if unparseable.
std::optional<std::string> withoutUserinfo(const std::string& url);

/// Whether an address (textual IPv4/IPv6) is one the guard refuses by default. Private: RFC 1918,
/// CGNAT, link-local, 0/8, multicast, reserved, 198.18.0.0/15, 192.0.0.0/24, fc00::/7, fec0::/10,
/// 64:ff9b:1::/48, and IPv6 addresses that embed a private IPv4 one (IPv4-mapped, IPv4-compatible,
/// IPv4-translated, NAT64 64:ff9b::/96, 6to4 2002::/16).
bool isLoopbackAddress(const std::string& ip);
bool isPrivateAddress(const std::string& ip);

/// Resolves a redirect's Location against the URL that answered it. Invalid for an unusable
/// Location, one with userinfo, a scheme other than http(s), or a downgrade from https to http.
core::Result<std::string> redirectTarget(const std::string& from, const std::string& location);
/// Whether credentials sent to `from` may follow a redirect to `to`: the same origin (scheme, host,
/// port), or https to https within one registrable domain (Public Suffix List), e.g.
/// fastmail.com -> caldav.fastmail.com. Anything else gets the request without them.
bool credentialsMayFollow(const std::string& from, const std::string& to);

}  // namespace calgate::providers
