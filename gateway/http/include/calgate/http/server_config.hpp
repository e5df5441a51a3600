#pragma once
/// The `server:` section of the configuration: where and how the HTTP server listens.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace calgate::http {

/// The `server:` section of the configuration.
struct ServerConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  ///< 0: any free port (the chosen one is logged in server.started)
  unsigned threads = 4;  ///< request threads; they never wait on calendar servers or DNS
  /// Requests that do (feeds, previews, account discovery, policy lookups) run on a pool of their
  /// own: this many at once...
  unsigned outboundThreads = 8;
  std::size_t outboundQueue = 64;  ///< ...this many waiting (more: 503 busy)...
  unsigned outboundPerUser = 2;    ///< ...and this many per user or feed (more: 429)
  std::chrono::seconds outboundBudget{30};  ///< time one such request may spend on calendar servers in all
  std::size_t maxBodyBytes = 1024 * 1024;
  unsigned rateLimitPerMinute = 600;  ///< requests per API token per minute (burst = the same); 0: no limit
  std::chrono::seconds shutdownGrace{10};
  /// Reverse proxies whose X-Forwarded-For is believed (their IP addresses); empty: none.
  std::vector<std::string> trustedProxies{};
  /// /metrics answers only with "Authorization: Bearer <this>"; empty: only to loopback clients.
  std::string metricsToken{};
  /// Where browsers reach calgate (behind its TLS-terminating proxy), e.g. https://calgate.example.com:
  /// OAuth's redirect URI is <this>/oauth/callback. Empty: OAuth sign-ins are not offered.
  std::string publicUrl{};
};

}  // namespace calgate::http
