#include "calgate/providers/google/wire.hpp"

#include "calgate/model/recurrence.hpp"
#include "calgate/providers/google/mapping.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdio>

namespace calgate::providers::google {
namespace {

using core::ErrorCode;
using core::fail;
using nlohmann::json;

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;  // from_chars alone would take a sign
  }
  const auto r = std::from_chars(s.data() + pos, s.data() + pos + n, out);
  return r.ec == std::errc() && r.ptr == s.data() + pos + n;
}

std::optional<std::chrono::year_month_day> parseDay(std::string_view s) {
  int y = 0, m = 0, d = 0;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !digits(s, 0, 4, y) || !digits(s, 5, 2, m) || !digits(s, 8, 2, d)) {
    return std::nullopt;
  }
  const std::chrono::year_month_day day{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(m)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!day.ok()) return std::nullopt;
  return day;
}

/// A string member, "" when absent; Invalid when present with another type.
core::Result<std::string> text(const json& item, const char* name) {
  const auto it = item.find(name);
  if (it == item.end()) return std::string();
  if (!it->is_string()) return fail(ErrorCode::Invalid, std::string("the field ") + name + " is not a string");
  return it->get<std::string>();
}

model::ShowAs showAsOf(std::string_view transparency, std::string_view eventType) {
  if (eventType == "outOfOffice") return model::ShowAs::OutOfOffice;
  return showAsFromTransparency(transparency);
}

}  // namespace

std::optional<std::chrono::sys_seconds> parseRfc3339(std::string_view s) {
  const auto day = parseDay(s);
  int hh = 0, mm = 0, ss = 0;
  if (!day || s.size() < 20 || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' || !digits(s, 11, 2, hh) ||
      !digits(s, 14, 2, mm) || !digits(s, 17, 2, ss) || hh > 23 || mm > 59 || ss > 60) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  if (s[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start || pos - start > 9) return std::nullopt;
  }
  int offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else {
    int oh = 0, om = 0;
    if (pos + 6 != s.size() || (s[pos] != '+' && s[pos] != '-') || s[pos + 3] != ':' || !digits(s, pos + 1, 2, oh) ||
        !digits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = (s[pos] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    pos += 6;
  }
  if (pos != s.size()) return std::nullopt;
  const auto local = std::chrono::sys_days(*day) + std::chrono::hours(hh) + std::chrono::minutes(mm) +
                     std::chrono::seconds(std::min(ss, 59));
  return std::chrono::sys_seconds(local - std::chrono::seconds(offset));
}

std::string rfc3339(std::chrono::sys_seconds instant) { return model::formatUtc(instant); }

core::Result<model::EventTime> readEventTime(const json& value, std::string_view fallbackZone) {
  if (!value.is_object()) return fail(ErrorCode::Invalid, "an event time is not an object");
  auto date = text(value, "date");
  auto dateTime = text(value, "dateTime");
  auto zone = text(value, "timeZone");
  if (!date || !dateTime || !zone) return fail(ErrorCode::Invalid, "an event time has a field of the wrong type");
  if (!date->empty() == !dateTime->empty()) return fail(ErrorCode::Invalid, "an event time needs exactly one of date and dateTime");
  if (!date->empty()) {
    const auto day = date->size() == 10 ? parseDay(*date) : std::nullopt;
    if (!day) return fail(ErrorCode::Invalid, "an event date is malformed");
    return model::Date{*day};
  }
  const auto instant = parseRfc3339(*dateTime);
  if (!instant) return fail(ErrorCode::Invalid, "an event time is not RFC 3339 with an offset");
  const std::string_view named = zone->empty() ? fallbackZone : std::string_view(*zone);
  auto canonical = model::canonicalZone(named);
  if (!canonical) return fail(ErrorCode::Invalid, "an event time names an unknown time zone");
  return model::ZonedTime{*instant, *canonical};
}

core::Result<ItemKind> itemKind(const json& item) {
  if (!item.is_object() || !item.contains("id") || !item["id"].is_string() || item["id"].get_ref<const std::string&>().empty()) {
    return fail(ErrorCode::Invalid, "an item without an id");
  }
  auto status = text(item, "status");
  if (!status) return std::unexpected(status.error());
  if (*status == "cancelled") {
    return item.contains("recurringEventId") ? ItemKind::CancelledOccurrence : ItemKind::Deleted;
  }
  auto type = text(item, "eventType");
  if (!type) return std::unexpected(type.error());
  // Birthdays are Contacts' dates and working locations say where someone works, not when they
  // are busy: neither is time to copy. Focus time and events from Gmail are busy time like any other.
  if (*type == "birthday" || *type == "workingLocation") return ItemKind::Ignored;
  return ItemKind::Event;
}

core::Result<model::EventTime> readOriginalStart(const json& item, std::string_view calendarZone) {
  const auto it = item.find("originalStartTime");
  if (it == item.end()) return fail(ErrorCode::Invalid, "an occurrence without originalStartTime");
  return readEventTime(*it, calendarZone);
}

core::Result<model::Event> readEvent(const json& item, std::string_view calendarZone) {
  model::Event e;
  e.id = stringField(item, "id");
  if (e.id.empty()) return fail(ErrorCode::Invalid, "an item without an id");
  std::string transparency, eventType, visibility, status, recurringEventId;
  for (auto [field, out] : std::initializer_list<std::pair<const char*, std::string*>>{
           {"etag", &e.etag}, {"iCalUID", &e.uid}, {"summary", &e.title}, {"description", &e.description},
           {"location", &e.location}, {"transparency", &transparency}, {"eventType", &eventType},
           {"visibility", &visibility}, {"status", &status}, {"recurringEventId", &recurringEventId}}) {
    auto value = text(item, field);
    if (!value) return std::unexpected(value.error());
    *out = std::move(*value);
  }
  if (!item.contains("start") || !item.contains("end")) return fail(ErrorCode::Invalid, "an event without start or end");
  auto start = readEventTime(item["start"], calendarZone);
  if (!start) return std::unexpected(start.error());
  auto end = readEventTime(item["end"], calendarZone);
  if (!end) return std::unexpected(end.error());
  if (start->index() != end->index()) return fail(ErrorCode::Invalid, "an event mixes a date and a time");
  e.start = *start;
  e.end = *end;
  if (const auto r = item.find("recurrence"); r != item.end()) {
    if (!r->is_array()) return fail(ErrorCode::Invalid, "recurrence is not a list");
    std::vector<std::string> lines;
    for (const auto& line : *r) {
      if (!line.is_string()) return fail(ErrorCode::Invalid, "a recurrence line is not a string");
      for (auto& one : model::oneValuePerLine(line.get<std::string>())) lines.push_back(std::move(one));
    }
    auto normalised = model::normaliseRecurrence(lines);
    if (!normalised) return fail(ErrorCode::Invalid, "the recurrence has a line calgate cannot read");
    e.recurrence = std::move(*normalised);
  }
  if (!recurringEventId.empty()) {
    auto original = readOriginalStart(item, calendarZone);
    if (!original) return std::unexpected(original.error());
    e.recurrenceId = *original;
    e.id = recurringEventId;
    e.seriesId = recurringEventId;
  }
  e.status = statusFrom(status);
  e.showAs = showAsOf(transparency, eventType);
  e.sensitivity = sensitivityFromVisibility(visibility);
  if (const auto a = item.find("attendees"); a != item.end() && a->is_array()) {
    for (const auto& attendee : *a) {
      if (attendee.is_object() && attendee.contains("email") && attendee["email"].is_string()) {
        e.attendees.push_back(attendee["email"].get<std::string>());
      }
    }
  }
  if (const auto o = item.find("organizer"); o != item.end() && o->is_object() && o->contains("email") && (*o)["email"].is_string()) {
    e.organizer = (*o)["email"].get<std::string>();
  }
  if (const auto s = item.find("sequence"); s != item.end() && s->is_number_integer()) e.sequence = s->get<int>();
  if (auto updated = text(item, "updated"); updated && !updated->empty()) {
    if (auto t = parseRfc3339(*updated)) e.updated = *t;
  }
  const auto ext = item.find("extendedProperties");
  if (ext != item.end() && ext->is_object() && ext->contains("private") && (*ext)["private"].is_object()) {
    const auto& p = (*ext)["private"];
    const auto pair = p.find(std::string(kOriginPairKey));
    const auto source = p.find(std::string(kOriginSourceKey));
    if (pair != p.end() && source != p.end() && pair->is_string() && source->is_string()) {
      e.origin = model::Origin{pair->get<std::string>(), source->get<std::string>()};
      // calgate's copy: its UID is the one calgate gave it, not Google's "<id>@google.com"
      const auto uid = p.find(std::string(kCopyUidKey));
      if (uid != p.end() && uid->is_string() && !uid->get_ref<const std::string&>().empty()) e.uid = uid->get<std::string>();
    }
  }
  return e;
}

}  // namespace calgate::providers::google
