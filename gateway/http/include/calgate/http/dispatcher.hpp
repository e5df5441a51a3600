#pragma once
/// The request pipeline every request passes through, independent of the socket library:
/// request id -> draining check -> body limit (413) -> routing (404/405) -> bearer or session auth (401/403)
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
#include <variant>

namespace calgate::http {

/// Resolves a bearer secret to who holds it (Unauthorized / Unavailable on failure). Thread-safe.
using Authenticator = std::function<core::Result<Identity>(std::string_view secret)>;

/// For a request without an Authorization header: the credential a browser sends by itself (the
/// portal's session cookie). nullopt: the request carries none (401). Otherwise who sent it, or the
/// answer that refuses it (401 for an ended session, 403 for a state change without the session's
/// CSRF token, 503). Thread-safe.
using SessionAuthenticator = std::function<std::optional<std::variant<Identity, Response>>(const Request&)>;

class Dispatcher {
 public:
  /// `limiter` (optional) limits authenticated requests per API token.
  /// `sessions` (optional) admits requests without a bearer token by their session cookie.
  Dispatcher(const Router& router, Authenticator authenticate, HttpMetrics& metrics, std::size_t maxBodyBytes,
             RateLimiter* limiter = nullptr, SessionAuthenticator sessions = {});

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
  /// Who sent an authenticated route's request (request.identity), or the answer refusing it.
  std::optional<Response> identify(Request& request);
  Response invoke(Request& request, const Pending& pending);

  const Router& router_;
  Authenticator authenticate_;
  SessionAuthenticator sessions_;
  HttpMetrics& metrics_;
  std::size_t maxBodyBytes_;
  RateLimiter* limiter_;
  std::atomic<bool> draining_{false};
};

/// Extracts the token from "Authorization: Bearer <token>" (scheme case-insensitive).
std::optional<std::string_view> bearerToken(const Request& request);

}  // namespace calgate::http
