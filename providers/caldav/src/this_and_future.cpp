#include "calgate/providers/caldav/this_and_future.hpp"

#include "calgate/model/occurrences.hpp"

#include <algorithm>
#include <cstdio>

namespace calgate::providers::caldav {
namespace {

using std::chrono::days;
using std::chrono::local_seconds;
using std::chrono::seconds;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

constexpr int kHorizonYears = 30;  // how far after a change its occurrences are looked for
// Bounds for a hostile resource: every split expands the series up to this many occurrences, and a
// resource may hold at most this many such changes.
constexpr std::size_t kMaxExpansion = 20000;
constexpr std::size_t kMaxSplits = 8;

/// Dates at 00:00 UTC and floating times read as UTC, as expandOccurrences anchors them.
sys_seconds instantOf(const model::EventTime& t) {
  if (const auto* d = std::get_if<model::Date>(&t)) return sys_days(d->day);
  if (const auto* z = std::get_if<model::ZonedTime>(&t)) return z->instant;
  return sys_seconds(std::get<model::FloatingTime>(t).local.time_since_epoch());
}

/// Wall-clock time of `t` in `zone` ("" for floating: its own local time).
local_seconds localIn(const model::EventTime& t, const std::string& zone) {
  if (const auto* f = std::get_if<model::FloatingTime>(&t)) return f->local;
  if (const auto* d = std::get_if<model::Date>(&t)) return local_seconds(sys_days(d->day).time_since_epoch());
  const auto& z = std::get<model::ZonedTime>(t);
  return model::localTimeOf(model::ZonedTime{z.instant, zone.empty() ? z.zone : zone});
}

std::string compact(local_seconds t) {
  std::string s = model::formatLocal(t);  // 2026-11-21T10:30:00
  s.erase(std::remove(s.begin(), s.end(), '-'), s.end());
  s.erase(std::remove(s.begin(), s.end(), ':'), s.end());
  return s;
}

/// The value of `t` as an iCalendar date or date-time (with the parameters it needs).
std::pair<std::string, std::string> icalValue(const model::EventTime& t) {
  if (const auto* d = std::get_if<model::Date>(&t)) {
    std::string s = model::formatDate(d->day);
    s.erase(std::remove(s.begin(), s.end(), '-'), s.end());
    return {";VALUE=DATE", s};
  }
  if (const auto* z = std::get_if<model::ZonedTime>(&t)) {
    if (z->zone == "UTC") return {"", compact(local_seconds(z->instant.time_since_epoch())) + "Z"};
    return {";TZID=" + z->zone, compact(model::localTimeOf(*z))};
  }
  return {"", compact(std::get<model::FloatingTime>(t).local)};
}

/// The shift of a THISANDFUTURE override: how its occurrence moved, in wall-clock time.
struct Shift {
  const model::Event* changed;
  std::string zone;  // the changed occurrence's zone ("" for dates and floating times)
  seconds local{0};

  core::Result<model::EventTime> apply(const model::EventTime& original) const {
    if (const auto* d = std::get_if<model::Date>(&original)) {
      return model::EventTime{model::Date{std::chrono::year_month_day(
          sys_days(d->day) + std::chrono::floor<days>(local))}};
    }
    const local_seconds moved = localIn(original, zone) + local;
    if (std::holds_alternative<model::FloatingTime>(changed->start)) return model::EventTime{model::FloatingTime{moved}};
    auto zoned = model::zonedFromLocal(moved, zone);
    if (!zoned) return std::unexpected(zoned.error());
    return model::EventTime{*zoned};
  }
  model::EventTime endFor(const model::EventTime& start) const {
    if (const auto* d = std::get_if<model::Date>(&start)) {
      const auto& s = std::get<model::Date>(changed->start);
      const auto* e = std::get_if<model::Date>(&changed->end);
      const days length = e ? sys_days(e->day) - sys_days(s.day) : days(1);
      return model::Date{std::chrono::year_month_day(sys_days(d->day) + length)};
    }
    const seconds length = instantOf(changed->end) - instantOf(changed->start);
    if (const auto* f = std::get_if<model::FloatingTime>(&start)) return model::FloatingTime{f->local + length};
    const auto& z = std::get<model::ZonedTime>(start);
    return model::ZonedTime{z.instant + length, z.zone};
  }
};

Shift shiftOf(const model::Event& changed) {
  Shift s{&changed, {}, seconds(0)};
  if (const auto* z = std::get_if<model::ZonedTime>(&changed.start)) s.zone = z->zone;
  if (std::holds_alternative<model::Date>(changed.start)) {
    s.local = sys_days(std::get<model::Date>(changed.start).day) - sys_days(std::get<model::Date>(*changed.recurrenceId).day);
  } else {
    s.local = localIn(changed.start, s.zone) - localIn(*changed.recurrenceId, s.zone);
  }
  return s;
}

/// The instant an RDATE/EXDATE value stands for (dates and floating times as UTC).
std::optional<sys_seconds> valueInstant(std::string_view value, const std::string& tzid) {
  if (const auto slash = value.find('/'); slash != std::string_view::npos) value = value.substr(0, slash);  // PERIOD
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (value.size() == 8 && std::sscanf(std::string(value).c_str(), "%4d%2d%2d", &y, &mo, &d) == 3) {
    return sys_days(std::chrono::year(y) / mo / d);
  }
  if ((value.size() == 15 || value.size() == 16) &&
      std::sscanf(std::string(value).c_str(), "%4d%2d%2dT%2d%2d%2d", &y, &mo, &d, &h, &mi, &se) == 6) {
    const local_seconds local{(sys_days(std::chrono::year(y) / mo / d) + std::chrono::hours(h) +
                               std::chrono::minutes(mi) + seconds(se)).time_since_epoch()};
    if (value.size() == 16 || tzid.empty()) return sys_seconds(local.time_since_epoch());
    auto z = model::zonedFromLocal(local, tzid);
    if (z) return z->instant;
  }
  return std::nullopt;
}

/// The first part's recurrence: rules end before `before`, RDATEs before it stay.
std::vector<std::string> endBefore(const model::Event& master, sys_seconds before) {
  std::vector<std::string> out;
  for (const auto& line : master.recurrence) {
    if (line.rfind("RRULE:", 0) == 0) {
      std::string rule = "RRULE:";
      std::string_view parts(line);
      parts.remove_prefix(6);
      while (!parts.empty()) {
        const auto end = std::min(parts.find(';'), parts.size());
        const std::string_view part = parts.substr(0, end);
        if (part.rfind("COUNT=", 0) != 0 && part.rfind("UNTIL=", 0) != 0) rule += std::string(part) + ";";
        parts.remove_prefix(std::min(end + 1, parts.size()));
      }
      std::string until;
      if (std::holds_alternative<model::Date>(master.start)) {
        until = icalValue(model::Date{std::chrono::year_month_day(std::chrono::floor<days>(before) - days(1))}).second;
      } else if (std::holds_alternative<model::FloatingTime>(master.start)) {
        until = compact(local_seconds((before - seconds(1)).time_since_epoch()));
      } else {
        until = compact(local_seconds((before - seconds(1)).time_since_epoch())) + "Z";
      }
      out.push_back(rule + "UNTIL=" + until);
    } else if (line.rfind("RDATE", 0) == 0) {
      const auto colon = line.find(':');
      const std::string params = line.substr(0, colon);
      const auto tz = params.find(";TZID=");
      const std::string tzid = tz == std::string::npos ? "" : params.substr(tz + 6, params.find(';', tz + 1) - tz - 6);
      std::string kept;
      std::string_view values = std::string_view(line).substr(colon + 1);
      while (!values.empty()) {
        const auto end = std::min(values.find(','), values.size());
        const auto v = values.substr(0, end);
        if (auto at = valueInstant(v, tzid); at && *at < before) kept += (kept.empty() ? "" : ",") + std::string(v);
        values.remove_prefix(std::min(end + 1, values.size()));
      }
      if (!kept.empty()) out.push_back(params + ":" + kept);
    } else {
      out.push_back(line);  // EXDATE: harmless where nothing recurs any more
    }
  }
  return out;
}

/// The occurrences after `from`, moved by `shift`, as RDATE lines (at most kMaxFutureOccurrences
/// values, 40 to a line, one line per form of value).
core::Result<std::vector<std::string>> movedOccurrences(const std::vector<model::Occurrence>& occurrences,
                                                        sys_seconds from, const Shift& shift) {
  std::vector<std::string> lines;
  std::vector<std::string> values;
  std::string params;
  auto flush = [&] {
    if (values.empty()) return;
    std::string line = "RDATE" + params + ":";
    for (std::size_t i = 0; i < values.size(); ++i) line += (i ? "," : "") + values[i];
    lines.push_back(std::move(line));
    values.clear();
  };
  std::size_t count = 0;
  for (const auto& o : occurrences) {
    if (o.startInstant <= from || !o.recurrenceId) continue;
    if (++count > kMaxFutureOccurrences) break;
    auto moved = shift.apply(*o.recurrenceId);
    if (!moved) return std::unexpected(moved.error());
    auto [p, v] = icalValue(*moved);
    if (p != params || values.size() == 40) {
      flush();
      params = p;
    }
    values.push_back(v);
  }
  flush();
  return lines;
}

/// Splits the last part (`part`, master first) at the THISANDFUTURE override `at`; nullopt when the
/// change moves no occurrence (the part is left as it is).
core::Result<std::optional<std::pair<std::vector<RangedEvent>, std::vector<RangedEvent>>>> splitOnce(
    std::vector<RangedEvent>& part, std::size_t at) {
  const model::Event master = part.front().event;
  const model::Event changed = part[at].event;
  // A shift is measured between like times: a change from a timed occurrence to a whole day (or
  // the reverse) has no wall-clock shift to apply to the later ones.
  if (changed.start.index() != changed.recurrenceId->index() || master.start.index() != changed.start.index() ||
      changed.end.index() != changed.start.index()) {
    return core::fail(core::ErrorCode::Invalid,
                      "a RANGE=THISANDFUTURE change turns timed occurrences into whole days (or back)");
  }
  const sys_seconds from = instantOf(*changed.recurrenceId);
  std::vector<model::Event> alone{master};
  alone.front().status = model::Status::Confirmed;  // the rules, not whether the series is cancelled
  auto occurrences = model::expandOccurrences(alone, from, from + std::chrono::years(kHorizonYears), "UTC",
                                              model::ExpansionLimits{kMaxExpansion});
  if (!occurrences) return std::unexpected(occurrences.error());
  // A change at or after the series' end (a stale override) moves nothing: no split
  if (std::none_of(occurrences->begin(), occurrences->end(),
                   [&](const model::Occurrence& o) { return o.recurrenceId && instantOf(*o.recurrenceId) >= from; })) {
    return std::nullopt;
  }
  const Shift shift = shiftOf(changed);
  const std::string suffix = std::string(kPartMarker) + model::formatUtc(from);

  std::vector<RangedEvent> first, second;
  model::Event head = master;
  head.recurrence = endBefore(master, from);
  // changed from its first occurrence on: the old series has nothing left
  if (instantOf(master.start) < from) first.push_back({head, false});
  model::Event tail = changed;
  tail.id = suffix;
  tail.recurrenceId.reset();
  tail.recurrence.clear();
  auto rdates = movedOccurrences(*occurrences, from, shift);
  if (!rdates) return std::unexpected(rdates.error());
  tail.recurrence = std::move(*rdates);
  second.push_back({tail, false});
  for (std::size_t i = 1; i < part.size(); ++i) {
    if (i == at) continue;
    RangedEvent e = std::move(part[i]);
    if (instantOf(*e.event.recurrenceId) < from) {
      if (!first.empty()) first.push_back(std::move(e));
      continue;
    }
    auto moved = shift.apply(*e.event.recurrenceId);
    if (!moved) return std::unexpected(moved.error());
    e.event.recurrenceId = *moved;
    e.event.id = suffix;
    second.push_back(std::move(e));
  }
  return std::optional{std::pair{std::move(first), std::move(second)}};
}

}  // namespace

std::string resourceOf(const std::string& eventId) {
  const auto at = eventId.find(kPartMarker);
  return at == std::string::npos ? eventId : eventId.substr(0, at);
}

core::Result<std::vector<model::Event>> splitThisAndFuture(std::vector<RangedEvent> events) {
  std::vector<model::Event> done;
  const auto ranges = std::count_if(events.begin(), events.end(), [](const RangedEvent& e) { return e.thisAndFuture; });
  if (static_cast<std::size_t>(ranges) > kMaxSplits) {
    return core::fail(core::ErrorCode::Invalid, "more than " + std::to_string(kMaxSplits) +
                                                    " RANGE=THISANDFUTURE changes in one series");
  }
  // Only a series with its master has rules to split; ranges on lone overrides mean nothing here.
  while (!events.empty() && !events.front().event.recurrenceId) {
    std::optional<std::size_t> at;
    for (std::size_t i = 1; i < events.size(); ++i) {
      if (!events[i].thisAndFuture) continue;
      if (!at || instantOf(*events[i].event.recurrenceId) < instantOf(*events[*at].event.recurrenceId)) at = i;
    }
    if (!at) break;
    auto split = splitOnce(events, *at);
    if (!split) return std::unexpected(split.error());
    if (!*split) {
      events[*at].thisAndFuture = false;  // stale: an override of one occurrence at most
      continue;
    }
    for (auto& e : (*split)->first) done.push_back(std::move(e.event));
    events = std::move((*split)->second);
  }
  for (auto& e : events) done.push_back(std::move(e.event));
  return done;
}

}  // namespace calgate::providers::caldav
