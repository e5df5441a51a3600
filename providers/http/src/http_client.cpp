#include "calgate/providers/http/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>

namespace calgate::providers {

using core::ErrorCode;

std::optional<std::string> HttpResponse::header(const std::string& lowerName) const {
  auto it = headers.find(lowerName);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::optional<std::chrono::seconds> parseRetryAfter(const std::string& value, const core::Clock& clock) {
  std::string v = value;
  while (!v.empty() && v.back() == ' ') v.pop_back();
  unsigned long long seconds = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (ec == std::errc() && ptr == v.data() + v.size() && !v.empty()) {
    return std::chrono::seconds(std::min<unsigned long long>(seconds, 86400));
  }
  // HTTP-date, IMF-fixdate form: "Sun, 06 Nov 1994 08:49:37 GMT"
  std::tm tm{};
  const char* end = strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  const long long at = static_cast<long long>(timegm(&tm));
  const long long now = clock.nowUnixSeconds();
  return std::chrono::seconds(std::clamp<long long>(at - now, 0, 86400));
}

core::Error statusError(const HttpResponse& r, const std::string& what, const core::Clock& clock) {
  const std::string message = what + ": HTTP " + std::to_string(r.status);
  core::Error e{ErrorCode::Invalid, message, std::nullopt};
  switch (r.status) {
    case 401:
    case 403: e.code = ErrorCode::Unauthorized; break;
    case 404: e.code = ErrorCode::NotFound; break;
    case 409: e.code = ErrorCode::Conflict; break;
    case 410: e.code = ErrorCode::Gone; break;
    case 412: e.code = ErrorCode::PreconditionFailed; break;
    case 429:
    case 503:
      e.code = ErrorCode::RateLimited;
      if (auto ra = r.header("retry-after")) e.retryAfter = parseRetryAfter(*ra, clock);
      break;
    default:
      if (r.status >= 500) e.code = ErrorCode::Unavailable;
  }
  return e;
}

std::string percentEncode(std::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : raw) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace calgate::providers
