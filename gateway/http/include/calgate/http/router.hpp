#pragma once
/// Maps method + path to a handler. Patterns are literal segments and `{name}` parameters,
/// e.g. "/v1/pairs/{id}/sync"; a parameter may carry a literal suffix ("/feeds/{token}.ics"). The pattern string doubles as the route's name in logs and
/// metrics, so raw paths (which may carry ids or capability tokens) are never used as labels.

#include "calgate/http/message.hpp"

#include <functional>
#include <string>
#include <vector>

namespace calgate::http {

using Handler = std::function<Response(Request&)>;

struct Route {
  std::string method;
  std::string pattern;
  bool authenticated = false;  ///< requires a valid bearer token
  Handler handler;
  /// Waits on the outside world (calendar servers, DNS): the server runs it on its outbound pool,
  /// never on a request thread, within per-user limits (OutboundPool).
  bool outbound = false;
};

struct RouteMatch {
  enum class Kind { Found, NotFound, MethodNotAllowed } kind = Kind::NotFound;
  const Route* route = nullptr;
  std::map<std::string, std::string> params;
  std::vector<std::string> allowed;  ///< for MethodNotAllowed
};

/// Not thread-safe to modify; safe to match concurrently once built.
class Router {
 public:
  /// Adds a route. Throws std::invalid_argument on a malformed or duplicate pattern (a bug).
  void add(Route route);
  RouteMatch match(std::string_view method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace calgate::http
