#pragma once
/// The request pipeline every request passes through, independent of the socket library:
/// request id -> draining check -> body limit (413) -> routing (404/405) -> bearer auth (401)
/// -> per-token rate limit (429) -> handler (exceptions -> 500) -> metrics + one structured log line. All errors are
/// application/problem+json. Thread-safe once constructed.
///
/// A server that runs outbound routes elsewhere uses the pipeline in halves: begin() does
/// everything up to the handler and runs the handlers of the other routes; an outbound route
/// comes back pending, to be run() on another thread, which also finishes the request.

#include "calgate/core/error.hpp"
#include "calgate/http/message.hpp"
#include "calgate/http/metrics.hpp"
#include "calgate/http/rate_limiter.hpp"
#include "calgate/http/router.hpp"

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
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

  /// A request between begin() and its answer.
  struct Pending {
    std::optional<Response> answer;  ///< set: answered (an error, or a route that is not outbound)
    const Route* route = nullptr;    ///< the matched route
    std::string routeName = "unmatched";
    std::string key;                 ///< whose request it is, for per-user limits ("user:<id>", or the route and its parameters)
    std::chrono::steady_clock::time_point started;
  };

  /// Runs the pipeline. Never throws.
  Response handle(Request& request);
  /// Up to the handler; runs it unless the route is outbound. Never throws.
  Pending begin(Request& request);
  /// Runs a pending outbound route's handler, then finish(). Never throws.
  Response run(Request& request, Pending& pending);
  /// Adds X-Request-Id, records metrics and logs the request. Never throws.
  Response finish(const Request& request, const Pending& pending, Response response);

  /// After this, every request is answered 503 (used while shutting down).
  void startDraining() { draining_.store(true); }
  bool draining() const { return draining_.load(); }
  std::size_t maxBodyBytes() const { return maxBodyBytes_; }

 private:
  /// The checks before the handler: an answer, or the route to run.
  std::optional<Response> admit(Request& request, Pending& pending);
  Response invoke(Request& request, const Pending& pending);

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
