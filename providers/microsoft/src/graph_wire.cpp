#include "calgate/providers/microsoft/graph_wire.hpp"

#include "calgate/model/zone_names.hpp"
#include "calgate/providers/json_fields.hpp"
#include "calgate/providers/microsoft/mapping.hpp"

#include <charconv>

namespace calgate::providers::microsoft {
namespace {

using core::ErrorCode;
using nlohmann::json;

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  const auto* first = s.data() + at;
  for (std::size_t i = 0; i < n; ++i) {
    if (first[i] < '0' || first[i] > '9') return false;
  }
  return std::from_chars(first, first + n, out).ec == std::errc{};
}

/// "YYYY-MM-DDTHH:MM:SS(.f{1,7})?" -> local seconds.
std::optional<std::chrono::local_seconds> parseWall(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || !digits(s, 0, 4, y) ||
      !digits(s, 5, 2, mo) || !digits(s, 8, 2, d) || !digits(s, 11, 2, h) || !digits(s, 14, 2, mi) || !digits(s, 17, 2, se) ||
      h > 23 || mi > 59 || se > 59) {
    return std::nullopt;
  }
  if (s.size() > 19) {
    if (s[19] != '.' || s.size() < 21 || s.size() > 27) return std::nullopt;
    for (std::size_t i = 20; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
    }
  }
  const std::chrono::year_month_day day{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!day.ok()) return std::nullopt;
  return std::chrono::local_days(day) + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(se);
}

/// Outlook bodies are HTML: tags out, the common entities decoded, whitespace runs folded.
std::string textOf(const json& body) {
  std::string content = stringField(body, "content");
  if (stringField(body, "contentType") != "html") return content;
  std::string out;
  bool inTag = false;
  for (std::size_t i = 0; i < content.size(); ++i) {
    const char c = content[i];
    if (c == '<') {
      inTag = true;
      const std::string_view rest(content.data() + i, std::min<std::size_t>(content.size() - i, 4));
      if (rest.starts_with("<br") || rest.starts_with("<p") || rest.starts_with("</p") || rest.starts_with("<div")) out += '\n';
      continue;
    }
    if (c == '>') {
      inTag = false;
      continue;
    }
    if (inTag) continue;
    out += c;
  }
  static constexpr std::pair<std::string_view, std::string_view> kEntities[] = {
      {"&nbsp;", " "}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}};
  for (const auto& [from, to] : kEntities) {
    for (auto at = out.find(from); at != std::string::npos; at = out.find(from, at + to.size())) out.replace(at, from.size(), to);
  }
  // trim, and fold the runs of line breaks HTML leaves behind into one
  std::string folded;
  for (char c : out) {
    if (c == '\r') continue;
    if (c == '\n' && (folded.empty() || folded.back() == '\n')) continue;
    folded += c;
  }
  while (!folded.empty() && (folded.back() == '\n' || folded.back() == ' ')) folded.pop_back();
  return folded;
}

std::string addressOf(const json& recipient) {
  if (!recipient.is_object()) return {};
  const auto email = recipient.find("emailAddress");
  return email == recipient.end() ? std::string() : stringField(*email, "address");
}

}  // namespace

std::optional<std::string> ianaZoneOf(std::string_view graphZone) {
  if (graphZone.empty() || graphZone.size() > 128) return std::nullopt;
  if (graphZone == "tzone://Microsoft/Utc" || graphZone == "UTC") return std::string("UTC");
  if (auto fromWindows = model::ianaFromWindows(graphZone)) return fromWindows;
  if (model::isKnownZone(graphZone)) return std::string(graphZone);
  return std::nullopt;
}

core::Result<model::EventTime> readGraphTime(const json& value, bool allDay) {
  if (!value.is_object()) return core::fail(ErrorCode::Invalid, "an event time is missing");
  const std::string text = stringField(value, "dateTime");
  const auto wall = parseWall(text);
  if (!wall) return core::fail(ErrorCode::Invalid, "an event time is not a Graph dateTime (\"2026-03-02T09:00:00\")");
  const std::string zoneName = stringField(value, "timeZone");
  const auto zone = ianaZoneOf(zoneName);
  if (!zone) return core::fail(ErrorCode::Invalid, "an event time has a time zone calgate does not know");
  if (allDay) {
    if (wall->time_since_epoch() % std::chrono::days(1) != std::chrono::seconds(0)) {
      return core::fail(ErrorCode::Invalid, "an all-day event does not start at midnight");
    }
    return model::Date{std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(*wall))};
  }
  auto zoned = model::zonedFromLocal(*wall, *zone);
  if (!zoned) return std::unexpected(zoned.error());
  return *zoned;
}

std::optional<std::chrono::milliseconds> parseRetryAfterSeconds(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty() || value.size() > 16) return std::nullopt;
  double seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc{} || end != value.data() + value.size() || !(seconds >= 0) || seconds > 86400) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000 + 0.5));
}

core::Result<GraphItemKind> graphItemKind(const json& item) {
  if (!item.is_object() || stringField(item, "id").empty()) return core::fail(ErrorCode::Invalid, "an item without an id");
  if (item.contains("@removed")) return GraphItemKind::Removed;
  if (stringField(item, "type") == "seriesMaster") return GraphItemKind::Ignored;
  return GraphItemKind::Event;
}

core::Result<model::Event> readGraphEvent(const json& item) {
  model::Event e;
  e.id = stringField(item, "id");
  if (e.id.empty()) return core::fail(ErrorCode::Invalid, "an event without an id");
  e.etag = stringField(item, "@odata.etag");
  const bool allDay = boolField(item, "isAllDay");
  auto start = readGraphTime(item.is_object() && item.contains("start") ? item["start"] : json(), allDay);
  if (!start) return std::unexpected(start.error());
  auto end = readGraphTime(item.is_object() && item.contains("end") ? item["end"] : json(), allDay);
  if (!end) return std::unexpected(end.error());
  // read in UTC (Prefer: outlook.timezone): the instant, expressed again in the zone the organiser
  // gave it (originalStartTimeZone / originalEndTimeZone) where calgate knows that zone
  const auto inOriginalZone = [&](model::EventTime t, std::string_view field) -> model::EventTime {
    auto* z = std::get_if<model::ZonedTime>(&t);
    if (!z) return t;
    if (auto zone = ianaZoneOf(stringField(item, field)); zone && *zone != "UTC") z->zone = *zone;
    return t;
  };
  e.start = inOriginalZone(*start, "originalStartTimeZone");
  e.end = inOriginalZone(*end, "originalEndTimeZone");
  e.uid = stringField(item, "iCalUId");
  const std::string type = stringField(item, "type");
  if (type == "occurrence" || type == "exception") {
    // every occurrence is an event of its own (the product copies series as their occurrences):
    // a UID of its own too, from the series' and the original start
    e.seriesId = stringField(item, "seriesMasterId");
    e.uid += "-" + stringField(item, "originalStart");
  }
  if (e.uid.empty()) e.uid = e.id;
  e.title = stringField(item, "subject");
  if (item.contains("body")) e.description = textOf(item["body"]);
  if (item.contains("location")) e.location = stringField(item["location"], "displayName");
  e.status = boolField(item, "isCancelled") ? model::Status::Cancelled : model::Status::Confirmed;
  e.showAs = showAsFrom(stringField(item, "showAs"));
  e.sensitivity = sensitivityFrom(stringField(item, "sensitivity"));
  for (const auto& a : arrayField(item, "attendees")) {
    if (auto address = addressOf(a); !address.empty()) e.attendees.push_back(std::move(address));
  }
  if (item.contains("organizer")) e.organizer = addressOf(item["organizer"]);
  for (const auto& p : arrayField(item, "singleValueExtendedProperties")) {
    if (stringField(p, "id") != kOriginPropertyId) continue;
    const std::string value = stringField(p, "value");
    const auto space = value.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == value.size()) {
      return core::fail(ErrorCode::Invalid, "calgate's origin marker on this event is damaged");
    }
    e.origin = model::Origin{value.substr(0, space), value.substr(space + 1)};
  }
  return e;
}

}  // namespace calgate::providers::microsoft
