#include "calgate/http/router.hpp"

#include <optional>
#include <stdexcept>

namespace calgate::http {
namespace {

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    const auto end = path.find('/', i);
    out.push_back(path.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
    i = end == std::string_view::npos ? path.size() : end;
  }
  return out;
}

// A parameter segment is "{name}" or "{name}<literal suffix>", e.g. "{token}.ics".
struct ParamSegment {
  std::string_view name;
  std::string_view suffix;
};

std::optional<ParamSegment> paramOf(std::string_view segment) {
  if (segment.size() < 3 || segment.front() != '{') return std::nullopt;
  const auto close = segment.find('}');
  if (close == std::string_view::npos || close < 2) return std::nullopt;
  return ParamSegment{segment.substr(1, close - 1), segment.substr(close + 1)};
}

bool matches(const std::string& pattern, std::string_view path, std::map<std::string, std::string>& params) {
  const auto want = segments(pattern);
  const auto got = segments(path);
  if (want.size() != got.size()) return false;
  // A trailing slash is a different resource: "/healthz/" does not match "/healthz" (nor the other
  // way round: a pattern may end with one).
  if ((path.size() > 1 && path.back() == '/') != (pattern.size() > 1 && pattern.back() == '/')) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (const auto param = paramOf(want[i])) {
      if (got[i].size() <= param->suffix.size() || !got[i].ends_with(param->suffix)) return false;
      found[std::string(param->name)] = std::string(got[i].substr(0, got[i].size() - param->suffix.size()));
    } else if (want[i] != got[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

}  // namespace

void Router::add(Route route) {
  if (route.pattern.empty() || route.pattern.front() != '/') {
    throw std::invalid_argument("route pattern must start with '/': " + route.pattern);
  }
  for (const auto& r : routes_) {
    if (r.method == route.method && r.pattern == route.pattern) {
      throw std::invalid_argument("duplicate route " + route.method + " " + route.pattern);
    }
  }
  routes_.push_back(std::move(route));
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  RouteMatch result;
  for (const auto& r : routes_) {
    std::map<std::string, std::string> params;
    if (!matches(r.pattern, path, params)) continue;
    if (r.method == method) {
      result.kind = RouteMatch::Kind::Found;
      result.route = &r;
      result.params = std::move(params);
      return result;
    }
    result.kind = RouteMatch::Kind::MethodNotAllowed;
    result.allowed.push_back(r.method);
  }
  return result;
}

}  // namespace calgate::http
