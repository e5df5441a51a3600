#include "calgate/http/dispatcher.hpp"

#include "calgate/core/ids.hpp"
#include "calgate/core/log.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

namespace calgate::http {
namespace {

bool acceptableRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

Response unauthorized() {
  Response r = problem(401, "unauthorized", "Unauthorized", "missing or invalid bearer token");
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"calgate\"");
  return r;
}

}  // namespace

std::optional<std::string_view> bearerToken(const Request& request) {
  auto value = request.header("authorization");
  if (!value) return std::nullopt;
  std::string_view v = *value;
  constexpr std::string_view kScheme = "bearer ";
  if (v.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(v[i])) != kScheme[i]) return std::nullopt;
  }
  v.remove_prefix(kScheme.size());
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  return v;
}

Dispatcher::Dispatcher(const Router& router, Authenticator authenticate, HttpMetrics& metrics,
                       std::size_t maxBodyBytes, RateLimiter* limiter, SessionAuthenticator sessions)
    : router_(router),
      authenticate_(std::move(authenticate)),
      sessions_(std::move(sessions)),
      metrics_(metrics),
      maxBodyBytes_(maxBodyBytes),
      limiter_(limiter) {}

std::optional<Response> Dispatcher::admit(Request& request, Pending& pending) {
  if (draining()) {
    Response r = problem(503, "shutting-down", "Service Unavailable", "the server is shutting down");
    r.headers.emplace_back("Connection", "close");
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  if ((request.contentLength && *request.contentLength > maxBodyBytes_) || request.body.size() > maxBodyBytes_) {
    return problem(413, "body-too-large", "Content Too Large",
                   "request body exceeds the limit of " + std::to_string(maxBodyBytes_) + " bytes");
  }
  const RouteMatch match = router_.match(request.method, request.path);
  if (match.kind == RouteMatch::Kind::NotFound) {
    return problem(404, "not-found", "Not Found", "no resource at this path");
  }
  if (match.kind == RouteMatch::Kind::MethodNotAllowed) {
    std::string allow;
    for (const auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
    Response r = problem(405, "method-not-allowed", "Method Not Allowed",
                         "this resource supports " + allow);
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  const Route& route = *match.route;
  pending.route = &route;
  pending.routeName = route.pattern;
  request.params = match.params;
  pending.key = pending.routeName;
  for (const auto& [name, value] : request.params) pending.key += "|" + value;
  if (route.authenticated) {
    if (auto refused = identify(request)) return refused;
    pending.key = "user:" + request.identity->userId;
    if (limiter_) {
      if (const auto wait = limiter_->take("token:" + request.identity->tokenId)) {
        Response r = problem(429, "rate-limited", "Too Many Requests",
                             "this token made more than " + std::to_string(limiter_->perMinute()) +
                                 " requests in a minute; retry after " + std::to_string(wait->count()) + " s");
        r.headers.emplace_back("Retry-After", std::to_string(wait->count()));
        return r;
      }
    }
  }
  return std::nullopt;
}

std::optional<Response> Dispatcher::identify(Request& request) {
  const auto token = bearerToken(request);
  if (!token) {
    // no bearer token: a browser's session cookie, if the server takes those
    auto outcome = sessions_ && !request.header("authorization") ? sessions_(request) : std::nullopt;
    if (!outcome) return unauthorized();
    if (auto* refusal = std::get_if<Response>(&*outcome)) return std::move(*refusal);
    request.identity = std::get<Identity>(std::move(*outcome));
    return std::nullopt;
  }
  auto identity = authenticate_(*token);
  if (!identity) {
    if (identity.error().code == core::ErrorCode::Unauthorized) return unauthorized();
    core::log::error("http.auth_unavailable", {{"request_id", request.requestId}, {"error", identity.error().message}});
    return problem(503, "unavailable", "Service Unavailable", "authentication is temporarily unavailable");
  }
  request.identity = std::move(*identity);
  return std::nullopt;
}

Response Dispatcher::invoke(Request& request, const Pending& pending) {
  try {
    return pending.route->handler(request);
  } catch (const std::exception& e) {
    core::log::error("http.handler_exception",
                     {{"request_id", request.requestId}, {"route", pending.routeName}, {"error", e.what()}});
  } catch (...) {
    core::log::error("http.handler_exception", {{"request_id", request.requestId}, {"route", pending.routeName}});
  }
  return problem(500, "internal", "Internal Server Error", "an unexpected error occurred; see the server log",
                 request.requestId);
}

Dispatcher::Pending Dispatcher::begin(Request& request) {
  Pending pending;
  pending.started = std::chrono::steady_clock::now();
  if (auto incoming = request.header("x-request-id"); incoming && acceptableRequestId(*incoming)) {
    request.requestId = std::string(*incoming);
  } else {
    request.requestId = core::newId("req");
  }
  try {
    pending.answer = admit(request, pending);
  } catch (const std::exception& e) {
    core::log::error("http.handler_exception",
                     {{"request_id", request.requestId}, {"route", pending.routeName}, {"error", e.what()}});
    pending.answer = problem(500, "internal", "Internal Server Error",
                             "an unexpected error occurred; see the server log", request.requestId);
  }
  if (!pending.answer && !pending.route->outbound) pending.answer = invoke(request, pending);
  return pending;
}

Response Dispatcher::run(Request& request, Pending& pending) {
  Response response = pending.answer ? *pending.answer : invoke(request, pending);
  return finish(request, pending, std::move(response));
}

Response Dispatcher::handle(Request& request) {
  Pending pending = begin(request);
  return run(request, pending);
}

Response Dispatcher::finish(const Request& request, const Pending& pending, Response response) {
  response.headers.emplace_back("X-Request-Id", request.requestId);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - pending.started).count();
  metrics_.record(pending.routeName, request.method, response.status, seconds);
  const core::log::Level level = response.status >= 500 ? core::log::Level::Error : core::log::Level::Info;
  core::log::write(level, "http.request",
                   {{"request_id", request.requestId},
                    {"method", request.method},
                    {"route", pending.routeName},
                    {"status", response.status},
                    {"latency_ms", seconds * 1000.0},
                    {"response_bytes", response.body.size()},
                    {"user_id", request.identity ? std::string_view(request.identity->userId) : std::string_view()}});
  return response;
}

}  // namespace calgate::http
