#include "push.hpp"

#include <algorithm>
#include <charconv>

namespace calgate::providers::google {

using core::ErrorCode;
using core::fail;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxResourceId = 256;

bool channelIdOk(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

std::string text(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// Google writes the expiration as a string of milliseconds (int64 in the discovery document);
/// a number is taken too.
std::optional<long long> millis(const json& o) {
  auto it = o.find("expiration");
  if (it == o.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<long long>();
  if (!it->is_string()) return std::nullopt;
  const auto& s = it->get_ref<const std::string&>();
  long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

core::Result<Watch> openChannel(Api& api, const std::string& calendarId, const WatchRequest& request) {
  if (!channelIdOk(request.channelId)) return fail(ErrorCode::Invalid, "a channel id is 1 to 64 letters, digits, '-' or '_'");
  if (!request.address.starts_with("https://")) return fail(ErrorCode::Invalid, "Google delivers notifications only to https:// addresses");
  if (request.token.empty() || request.token.size() > 256) return fail(ErrorCode::Invalid, "a channel token is 1 to 256 characters");
  const long long asked = std::chrono::duration_cast<std::chrono::milliseconds>(request.expiresAt.time_since_epoch()).count();
  const json body{{"id", request.channelId}, {"type", "web_hook"}, {"address", request.address},
                  {"token", request.token}, {"expiration", std::to_string(asked)}};
  auto r = api.call("POST", "calendars/" + segment(calendarId) + "/events/watch", {}, &body);
  if (!r) return std::unexpected(r.error());
  const json& a = r->body;
  if (!a.is_object() || text(a, "id") != request.channelId) {
    return fail(ErrorCode::Invalid, "Google answered the watch request for another channel");
  }
  Watch w;
  w.channelId = request.channelId;
  w.resourceId = text(a, "resourceId");
  if (w.resourceId.empty() || w.resourceId.size() > kMaxResourceId) {
    return fail(ErrorCode::Invalid, "Google's watch answer has no usable resource id");
  }
  const auto expires = millis(a);
  const long long now = std::chrono::duration_cast<std::chrono::milliseconds>(api.clock().now().time_since_epoch()).count();
  if (!expires || *expires <= now) return fail(ErrorCode::Invalid, "Google's watch answer has no expiration in the future");
  // never later than asked: a longer lifetime than calgate renews for would be a channel it forgets
  w.expiresAt = std::chrono::sys_seconds(std::chrono::seconds(std::min(*expires, asked) / 1000));
  return w;
}

core::Result<void> stopChannel(Api& api, const Watch& watch) {
  const json body{{"id", watch.channelId}, {"resourceId", watch.resourceId}};
  auto r = api.call("POST", "channels/stop", {}, &body, {}, {404});
  if (!r) return std::unexpected(r.error());
  return {};
}

}  // namespace calgate::providers::google
