#pragma once
/// The request pipeline every request passes through, independent of the socket library:
/// request id -> draining check -> body limit (413) -> routing (404/405) -> bearer auth (401)
/// -> per-token rate limit (429) -> handler (exceptions -> 500) -> metrics + one structured log line. All errors are
/// application/problem+json. Thread-safe once constructed.

#include "calgate/core/error.hpp"
#include "calgate/http/message.hpp"
#include "calgate/http/metrics.hpp"
#include "calgate/http/rate_limiter.hpp"
#include "calgate/http/router.hpp"

#include <atomic>
#include <cstddef>
#include <functional>

namespace calgate::http {

/// Resolves a bearer secret to who holds it (Unauthorized / Unavailable on failure). Thread-safe.
using Authenticator = std::function<core::Result<Identity>(std::string_view secret)>;

class Dispatcher {
 public:
  /// `limiter` (optional) limits authenticated requests per API token.
  Dispatcher(const Router& router, Authenticator authenticate, HttpMetrics& metrics, std::size_t maxBodyBytes,
             RateLimiter* limiter = nullptr);

  /// Runs the pipeline. Never throws.
  Response handle(Request& request);

  /// After this, every request is answered 503 (used while shutting down).
  void startDraining() { draining_.store(true); }
  bool draining() const { return draining_.load(); }
  std::size_t maxBodyBytes() const { return maxBodyBytes_; }

 private:
  Response route(Request& request, std::string& routeName);

  const Router& router_;
  Authenticator authenticate_;
  HttpMetrics& metrics_;
  std::size_t maxBodyBytes_;
  RateLimiter* limiter_;
  std::atomic<bool> draining_{false};
};

/// Extracts the token from "Authorization: Bearer <token>" (scheme case-insensitive).
std::optional<std::string_view> bearerToken(const Request& request);

}  // namespace calgate::http
