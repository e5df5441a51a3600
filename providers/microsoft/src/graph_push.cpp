#include "graph_push.hpp"

#include "calgate/model/event.hpp"

#include <algorithm>
#include <charconv>

namespace calgate::providers::microsoft {

using core::ErrorCode;
using core::fail;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxClientState = 128;
constexpr std::size_t kMaxSubscriptionId = 256;

std::string text(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool number(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  auto [end, ec] = std::from_chars(s.data() + at, s.data() + at + n, out);
  return ec == std::errc() && end == s.data() + at + n;
}

// The subscription as Graph answered it: its id and the expiry it granted (never later than asked).
core::Result<Watch> granted(const json& a, const core::Clock& clock, const std::string& channelId,
                            std::chrono::sys_seconds asked, std::string_view expectedId = {}) {
  Watch w;
  w.channelId = channelId;
  w.resourceId = a.is_object() ? text(a, "id") : std::string();
  if (w.resourceId.empty() || w.resourceId.size() > kMaxSubscriptionId || (!expectedId.empty() && w.resourceId != expectedId)) {
    return fail(ErrorCode::Invalid, "Microsoft Graph's subscription answer has no usable id");
  }
  const auto expires = parseGraphInstant(text(a, "expirationDateTime"));
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(clock.now());
  if (!expires || *expires <= now) return fail(ErrorCode::Invalid, "Microsoft Graph's subscription answer has no expiration in the future");
  w.expiresAt = std::min(*expires, asked);
  return w;
}

std::string iso(std::chrono::sys_seconds t) { return model::formatUtc(t); }

}  // namespace

std::optional<std::chrono::sys_seconds> parseGraphInstant(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return std::nullopt;
  if (!number(s, 0, 4, y) || !number(s, 5, 2, mo) || !number(s, 8, 2, d) || !number(s, 11, 2, h) || !number(s, 14, 2, mi) ||
      !number(s, 17, 2, se)) {
    return std::nullopt;
  }
  std::size_t at = 19;
  if (at < s.size() && s[at] == '.') {
    ++at;
    const std::size_t digits = at;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9') ++at;
    if (at == digits || at - digits > 9) return std::nullopt;
  }
  const std::string_view zone = s.substr(at);
  if (zone != "Z" && zone != "+00:00") return std::nullopt;
  const std::chrono::year_month_day day{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!day.ok() || h > 23 || mi > 59 || se > 59) return std::nullopt;
  return std::chrono::sys_days(day) + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(se);
}

core::Result<Watch> createSubscription(Api& api, const std::string& calendarId, const WatchRequest& request) {
  if (!request.address.starts_with("https://") || (!request.lifecycleAddress.empty() && !request.lifecycleAddress.starts_with("https://"))) {
    return fail(ErrorCode::Invalid, "Microsoft Graph delivers notifications only to https:// addresses");
  }
  if (request.token.empty() || request.token.size() > kMaxClientState) {
    return fail(ErrorCode::Invalid, "a subscription's clientState is 1 to 128 characters");
  }
  json body{{"changeType", "created,updated,deleted"},
            {"notificationUrl", request.address},
            {"resource", "/me/calendars/" + encode(calendarId) + "/events"},
            {"expirationDateTime", iso(request.expiresAt)},
            {"clientState", request.token}};
  if (!request.lifecycleAddress.empty()) body["lifecycleNotificationUrl"] = request.lifecycleAddress;
  auto r = api.call("POST", api.url("subscriptions"), &body);
  if (!r) return std::unexpected(r.error());
  return granted(r->body, api.clock(), request.channelId, request.expiresAt);
}

core::Result<Watch> renewSubscription(Api& api, const Watch& watch, std::chrono::sys_seconds expiresAt) {
  const json body{{"expirationDateTime", iso(expiresAt)}};
  auto r = api.call("PATCH", api.url("subscriptions/" + encode(watch.resourceId)), &body);
  if (!r) return std::unexpected(r.error());
  return granted(r->body, api.clock(), watch.channelId, expiresAt, watch.resourceId);
}

core::Result<void> reauthorizeSubscription(Api& api, const Watch& watch) {
  const json body = json::object();
  auto r = api.call("POST", api.url("subscriptions/" + encode(watch.resourceId) + "/reauthorize"), &body);
  if (!r) return std::unexpected(r.error());
  return {};
}

core::Result<void> deleteSubscription(Api& api, const Watch& watch) {
  auto r = api.call("DELETE", api.url("subscriptions/" + encode(watch.resourceId)), nullptr, {}, {404});
  if (!r) return std::unexpected(r.error());
  return {};
}

}  // namespace calgate::providers::microsoft
