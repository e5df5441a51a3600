#pragma once
/// The production HttpClient: libcurl with the network guard (url_guard.hpp) applied to every
/// address actually connected to.

#include "calgate/providers/http/http_client.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace calgate::providers {

struct HttpClientOptions {
  std::chrono::milliseconds connectTimeout{5000};
  std::chrono::milliseconds totalTimeout{30000};
  /// An overall budget for everything this client does (a feed render, a sync run): each request
  /// gets at most what is left of it, and once it has run out requests fail at once with Timeout
  /// (cause BudgetExceeded). Unset: no budget beyond totalTimeout per request.
  std::optional<std::chrono::steady_clock::time_point> deadline{};
  std::size_t maxResponseBytes = 16 * 1024 * 1024;
  long maxRedirects = 5;
  /// A user-supplied URL must not become a way into the local network: connections to loopback,
  /// private (RFC 1918, fc00::/7), link-local, CGNAT and unspecified addresses are refused unless
  /// allowed here (the tests allow loopback). Checked on the address actually connected to, so
  /// redirects and DNS rebinding cannot get around it.
  bool allowLoopback = false;
  bool allowPrivateNetworks = false;
  /// http:// URLs (no TLS): refused unless allowed, so credentials never travel in clear text. Also
  /// applies to redirects (https -> http is refused regardless).
  bool allowPlainHttp = false;
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

}  // namespace calgate::providers
