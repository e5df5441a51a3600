#include "calgate/providers/microsoft/graph_recurrence.hpp"

#include "calgate/model/recurrence.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace calgate::providers::microsoft {
namespace {

using namespace std::chrono;
using core::ErrorCode;
using nlohmann::json;

core::Error refused(const std::string& why) {
  return core::Error{ErrorCode::Invalid, "this series is not copied to Microsoft 365: " + why, std::nullopt, core::Cause::WriteRefused};
}

constexpr std::array<std::string_view, 7> kIcalDays{"SU", "MO", "TU", "WE", "TH", "FR", "SA"};
constexpr std::array<std::string_view, 7> kGraphDays{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
constexpr std::array<std::string_view, 4> kIndex{"first", "second", "third", "fourth"};

std::optional<unsigned> dayIndex(std::string_view ical) {
  for (unsigned i = 0; i < kIcalDays.size(); ++i) {
    if (kIcalDays[i] == ical) return i;
  }
  return std::nullopt;
}

std::optional<int> number(std::string_view text) {
  int v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const auto at = text.find(sep);
    out.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return out;
    text.remove_prefix(at + 1);
  }
}

/// "YYYYMMDD" -> the day; "YYYYMMDDTHHMMSS" -> the wall time.
std::optional<local_seconds> icalLocal(std::string_view text, bool& dateOnly) {
  if (text.size() != 8 && text.size() != 15) return std::nullopt;
  auto y = number(text.substr(0, 4)), m = number(text.substr(4, 2)), d = number(text.substr(6, 2));
  if (!y || !m || !d) return std::nullopt;
  const year_month_day day{year(*y), month(static_cast<unsigned>(*m)), std::chrono::day(static_cast<unsigned>(*d))};
  if (!day.ok()) return std::nullopt;
  dateOnly = text.size() == 8;
  if (dateOnly) return local_days(day);
  if (text[8] != 'T') return std::nullopt;
  auto hh = number(text.substr(9, 2)), mm = number(text.substr(11, 2)), ss = number(text.substr(13, 2));
  if (!hh || !mm || !ss || *hh > 23 || *mm > 59 || *ss > 60) return std::nullopt;
  return local_days(day) + hours(*hh) + minutes(*mm) + seconds(*ss);
}

/// The series' start as its own wall-clock time, and the IANA zone of that wall clock.
struct Frame {
  local_seconds start;
  std::string zone = "UTC";
};

Frame frameOf(const model::EventTime& t) {
  if (const auto* d = std::get_if<model::Date>(&t)) return {local_days(d->day), "UTC"};
  if (const auto* z = std::get_if<model::ZonedTime>(&t)) return {model::localTimeOf(*z), z->zone};
  return {std::get<model::FloatingTime>(t).local, "UTC"};
}

/// A wall time in `zone` as an instant ("UTC": the wall time itself).
core::Result<sys_seconds> instantOf(local_seconds local, const std::string& zone) {
  if (zone == "UTC") return sys_seconds(local.time_since_epoch());
  auto zoned = model::zonedFromLocal(local, zone);
  if (!zoned) return std::unexpected(zoned.error());
  return zoned->instant;
}

struct Rule {
  std::string freq;
  int interval = 1;
  std::optional<int> count;
  std::string until;
  std::vector<std::string_view> byDay, byMonthDay, byMonth, bySetPos;
  std::string wkst = "MO";
};

core::Result<Rule> parseRule(std::string_view line) {
  Rule r;
  for (auto part : split(line.substr(line.find(':') + 1), ';')) {
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) return std::unexpected(refused("its rule cannot be read"));
    const auto key = part.substr(0, eq);
    const auto value = part.substr(eq + 1);
    if (key == "FREQ") {
      r.freq = value;
    } else if (key == "INTERVAL") {
      auto n = number(value);
      if (!n || *n < 1 || *n > 999) return std::unexpected(refused("its interval is not one Outlook can hold"));
      r.interval = *n;
    } else if (key == "COUNT") {
      auto n = number(value);
      if (!n || *n < 1) return std::unexpected(refused("its count cannot be read"));
      r.count = *n;
    } else if (key == "UNTIL") {
      r.until = value;
    } else if (key == "BYDAY") {
      r.byDay = split(value, ',');
    } else if (key == "BYMONTHDAY") {
      r.byMonthDay = split(value, ',');
    } else if (key == "BYMONTH") {
      r.byMonth = split(value, ',');
    } else if (key == "BYSETPOS") {
      r.bySetPos = split(value, ',');
    } else if (key == "WKST") {
      r.wkst = value;
    } else {
      return std::unexpected(refused("Outlook has no equivalent of its rule's " + std::string(key) + " part"));
    }
  }
  return r;
}

/// A BYDAY value: its ordinal (0 for none) and weekday.
struct ByDay {
  int ordinal = 0;
  unsigned day = 0;
};

std::optional<ByDay> parseByDay(std::string_view v) {
  if (v.size() < 2) return std::nullopt;
  auto day = dayIndex(v.substr(v.size() - 2));
  if (!day) return std::nullopt;
  ByDay out{0, *day};
  if (v.size() > 2) {
    auto n = number(v.front() == '+' ? v.substr(1, v.size() - 3) : v.substr(0, v.size() - 2));
    if (!n || *n == 0) return std::nullopt;
    out.ordinal = *n;
  }
  return out;
}

/// The relative pattern's fields for one ordinal weekday, checked against the start's date.
core::Result<void> relative(json& pattern, const std::vector<std::string_view>& byDay, const year_month_day& start) {
  if (byDay.size() != 1) return std::unexpected(refused("Outlook reads several weekdays in a monthly or yearly rule as \"the first of any of them\""));
  auto d = parseByDay(byDay.front());
  if (!d || d->ordinal == 0) return std::unexpected(refused("its monthly or yearly weekday has no position in the month"));
  if (d->ordinal < -1 || d->ordinal > 4) return std::unexpected(refused("Outlook counts weekdays in a month as first to fourth, or last"));
  const unsigned dayOfMonth = static_cast<unsigned>(start.day());
  const unsigned last = static_cast<unsigned>(year_month_day_last(start.year(), month_day_last(start.month())).day());
  const bool matches = weekday(sys_days(start)).c_encoding() == d->day &&
                       (d->ordinal == -1 ? dayOfMonth + 7 > last : (dayOfMonth - 1) / 7 + 1 == static_cast<unsigned>(d->ordinal));
  if (!matches) return std::unexpected(refused("its first occurrence is not on the rule's own day, which Outlook would move"));
  pattern["daysOfWeek"] = json::array({kGraphDays[d->day]});
  pattern["index"] = d->ordinal == -1 ? "last" : kIndex[static_cast<std::size_t>(d->ordinal - 1)];
  return {};
}

/// The relative pattern's fields for "the n-th of the month's days that fall on any of these
/// weekdays" (BYDAY=MO,TU,...;BYSETPOS=n), which is how Outlook reads several daysOfWeek.
core::Result<void> relativeSet(json& pattern, const Rule& r, const year_month_day& start) {
  auto n = r.bySetPos.size() == 1 ? number(r.bySetPos.front()) : std::nullopt;
  if (!n || *n == 0) return std::unexpected(refused("Outlook holds one position (BYSETPOS) per rule"));
  if (*n < -1 || *n > 4) return std::unexpected(refused("Outlook counts days in a month as first to fourth, or last"));
  std::set<unsigned> days;
  json names = json::array();
  for (auto v : r.byDay) {
    auto d = parseByDay(v);
    if (!d || d->ordinal != 0) return std::unexpected(refused("a rule with a position (BYSETPOS) takes plain weekdays"));
    if (days.insert(d->day).second) names.push_back(kGraphDays[d->day]);
  }
  // Outlook's relative choices with several days: any day, a weekday, a weekend day
  const std::set<unsigned> all{0, 1, 2, 3, 4, 5, 6}, weekdays{1, 2, 3, 4, 5}, weekend{0, 6};
  if (days != all && days != weekdays && days != weekend) {
    return std::unexpected(refused("Outlook's positions count any day, weekdays or weekend days, not other sets of days"));
  }
  std::vector<unsigned> matching;  // the month's days on those weekdays
  const year_month_day_last last{start.year(), month_day_last(start.month())};
  for (unsigned d = 1; d <= static_cast<unsigned>(last.day()); ++d) {
    const year_month_day day{start.year(), start.month(), std::chrono::day(d)};
    if (days.count(weekday(sys_days(day)).c_encoding())) matching.push_back(d);
  }
  const std::size_t at = *n == -1 ? matching.size() - 1 : static_cast<std::size_t>(*n - 1);
  if (matching.empty() || at >= matching.size() || matching[at] != static_cast<unsigned>(start.day())) {
    return std::unexpected(refused("its first occurrence is not on the rule's own day, which Outlook would move"));
  }
  pattern["daysOfWeek"] = names;
  pattern["index"] = *n == -1 ? "last" : kIndex[static_cast<std::size_t>(*n - 1)];
  return {};
}

/// A single BYMONTHDAY / BYMONTH value, or `fallback` when the rule has none.
core::Result<unsigned> single(const std::vector<std::string_view>& values, unsigned fallback, const char* what) {
  if (values.empty()) return fallback;
  auto n = values.size() == 1 ? number(values.front()) : std::nullopt;
  if (!n || *n < 1) return std::unexpected(refused(std::string("Outlook holds one positive ") + what + " per rule"));
  return static_cast<unsigned>(*n);
}

core::Result<json> weeklyDays(const Rule& r, const year_month_day& start) {
  json days = json::array();
  bool startListed = r.byDay.empty();
  for (auto v : r.byDay) {
    auto d = parseByDay(v);
    if (!d || d->ordinal != 0) return std::unexpected(refused("a weekly rule's days cannot carry a position"));
    if (std::find(days.begin(), days.end(), kGraphDays[d->day]) == days.end()) days.push_back(kGraphDays[d->day]);
    if (d->day == weekday(sys_days(start)).c_encoding()) startListed = true;
  }
  if (r.byDay.empty()) days.push_back(kGraphDays[weekday(sys_days(start)).c_encoding()]);
  if (!startListed) return std::unexpected(refused("its first occurrence is not on one of the rule's days, which Outlook would move"));
  return days;
}

core::Result<json> pattern(const Rule& r, const year_month_day& start) {
  json p{{"interval", r.interval}};
  if (!r.bySetPos.empty() && (r.byDay.empty() || (r.freq != "MONTHLY" && r.freq != "YEARLY"))) {
    return std::unexpected(refused("Outlook has no equivalent of its rule's BYSETPOS part"));
  }

  const unsigned startDay = static_cast<unsigned>(start.day());
  const unsigned startMonth = static_cast<unsigned>(start.month());
  if (r.freq == "DAILY" && r.byMonthDay.empty() && r.byMonth.empty()) {
    if (r.byDay.empty()) {
      p["type"] = "daily";
      return p;
    }
    if (r.interval != 1) return std::unexpected(refused("Outlook has no daily rule on chosen weekdays every few days"));
    auto days = weeklyDays(r, start);  // every day on these weekdays: weekly on them
    if (!days) return std::unexpected(days.error());
    p["type"] = "weekly";
    p["daysOfWeek"] = *days;
    p["firstDayOfWeek"] = "sunday";
    return p;
  }
  if (r.freq == "WEEKLY" && r.byMonthDay.empty() && r.byMonth.empty()) {
    auto days = weeklyDays(r, start);
    if (!days) return std::unexpected(days.error());
    auto wkst = dayIndex(r.wkst);
    if (!wkst) return std::unexpected(refused("its week start cannot be read"));
    p["type"] = "weekly";
    p["daysOfWeek"] = *days;
    p["firstDayOfWeek"] = kGraphDays[*wkst];
    return p;
  }
  if ((r.freq == "MONTHLY" || r.freq == "YEARLY") && !r.byDay.empty()) {
    if (!r.byMonthDay.empty()) return std::unexpected(refused("Outlook has no rule on a weekday that is also a day of the month"));
    const bool yearly = r.freq == "YEARLY";
    if (yearly) {
      auto m = single(r.byMonth, 0, "month");
      if (!m || *m != startMonth) return std::unexpected(refused("a yearly weekday rule needs its one month, the month it starts in"));
      p["month"] = *m;
    } else if (!r.byMonth.empty()) {
      return std::unexpected(refused("Outlook has no monthly rule limited to some months"));
    }
    auto ok = r.bySetPos.empty() ? relative(p, r.byDay, start) : relativeSet(p, r, start);
    if (!ok) return std::unexpected(ok.error());
    p["type"] = yearly ? "relativeYearly" : "relativeMonthly";
    return p;
  }
  if (r.freq == "MONTHLY" || r.freq == "YEARLY") {
    const bool yearly = r.freq == "YEARLY";
    if (!yearly && !r.byMonth.empty()) return std::unexpected(refused("Outlook has no monthly rule limited to some months"));
    const unsigned lastDay = static_cast<unsigned>(year_month_day_last(start.year(), month_day_last(start.month())).day());
    if (!yearly && r.byMonthDay.size() == 1 && r.byMonthDay.front() == "-1" && r.byMonth.empty()) {
      // the last day of every month: Outlook's day 31, which it puts on a short month's last day
      if (startDay != lastDay) return std::unexpected(refused("its first occurrence is not on the rule's own day, which Outlook would move"));
      p["type"] = "absoluteMonthly";
      p["dayOfMonth"] = 31;
      return p;
    }
    // a yearly day of the month without its month is that day in every month (RFC 5545)
    if (yearly && !r.byMonthDay.empty() && r.byMonth.empty()) return std::unexpected(refused("a yearly rule on a day of every month is not one Outlook has"));
    auto day = single(r.byMonthDay, startDay, "day of the month");
    if (!day) return std::unexpected(day.error());
    auto m = single(r.byMonth, startMonth, "month");
    if (!m) return std::unexpected(m.error());
    if (*day != startDay || *m != startMonth) {
      return std::unexpected(refused("its first occurrence is not on the rule's own day, which Outlook would move"));
    }
    // Outlook puts a day 29-31 on a shorter month's last day where the rule skips that month
    if (!yearly && *day > 28) return std::unexpected(refused("Outlook moves a monthly day after the 28th to the end of shorter months"));
    if (yearly && *m == 2 && *day == 29) return std::unexpected(refused("Outlook moves February 29 to February 28 in common years"));
    p["type"] = yearly ? "absoluteYearly" : "absoluteMonthly";
    p["dayOfMonth"] = *day;
    if (yearly) p["month"] = *m;
    return p;
  }
  return std::unexpected(refused("Outlook has no equivalent of a " + (r.freq.empty() ? std::string("rule without a frequency") : r.freq + " rule with these parts")));
}

/// The last date whose occurrence an UNTIL admits: occurrences start at the series' time of day,
/// so a day whose start comes after UNTIL's time is not in the series.
core::Result<year_month_day> untilDate(const std::string& until, const Frame& frame) {
  bool dateOnly = false;
  const std::string_view text = until.ends_with('Z') ? std::string_view(until).substr(0, until.size() - 1) : until;
  auto local = icalLocal(text, dateOnly);
  if (!local) return std::unexpected(refused("its end (UNTIL) cannot be read"));
  if (dateOnly) return year_month_day(floor<days>(*local));
  if (until.ends_with('Z')) {
    const sys_seconds instant{local->time_since_epoch()};
    local = model::localTimeOf(model::ZonedTime{instant, frame.zone});
  }
  const auto day = floor<days>(*local);
  const auto timeOfDay = frame.start - floor<days>(frame.start);
  return year_month_day(timeOfDay <= *local - day ? day : day - days(1));
}

}  // namespace

core::Result<json> patternedRecurrenceFor(const model::Event& series, std::string_view graphZone) {
  std::optional<std::string> rule;
  for (const auto& line : series.recurrence) {
    if (line.starts_with("EXDATE")) continue;
    if (line.starts_with("RDATE")) return std::unexpected(refused("Outlook has no extra dates (RDATE) in a series"));
    if (!line.starts_with("RRULE:")) return std::unexpected(refused("its recurrence cannot be read"));
    if (rule) return std::unexpected(refused("Outlook holds one rule per series"));
    rule = line;
  }
  if (!rule) return std::unexpected(refused("it has no rule"));
  const Frame frame = frameOf(series.start);
  if (frame.zone != "UTC" && graphZone == "UTC") {
    return std::unexpected(refused("its time zone has no Windows name, and in UTC its times would move with daylight saving"));
  }
  auto r = parseRule(*rule);
  if (!r) return std::unexpected(r.error());
  if (r->count && !r->until.empty()) return std::unexpected(refused("its rule has both a count and an end"));
  const year_month_day start{floor<days>(frame.start)};
  auto p = pattern(*r, start);
  if (!p) return std::unexpected(p.error());
  json range{{"startDate", model::formatDate(start)}, {"recurrenceTimeZone", std::string(graphZone)}};
  if (r->count) {
    range["type"] = "numbered";
    range["numberOfOccurrences"] = *r->count;
  } else if (!r->until.empty()) {
    auto last = untilDate(r->until, frame);
    if (!last) return std::unexpected(last.error());
    if (sys_days(*last) < sys_days(start)) return std::unexpected(refused("its end (UNTIL) is before its start"));
    range["type"] = "endDate";
    range["endDate"] = model::formatDate(*last);
  } else {
    range["type"] = "noEnd";
  }
  return json{{"pattern", *p}, {"range", range}};
}

sys_seconds originalStartOf(const model::EventTime& t) {
  if (const auto* z = std::get_if<model::ZonedTime>(&t)) return z->instant;
  return sys_seconds(frameOf(t).start.time_since_epoch());
}

core::Result<std::vector<sys_seconds>> cancelledStarts(const model::Event& series) {
  std::vector<sys_seconds> out;
  const Frame frame = frameOf(series.start);
  for (const auto& raw : series.recurrence) {
    if (!raw.starts_with("EXDATE")) continue;
    for (const auto& line : model::oneValuePerLine(raw)) {
      const auto colon = line.rfind(':');
      const std::string_view params = std::string_view(line).substr(0, colon);
      std::string_view value = std::string_view(line).substr(colon + 1);
      const bool utc = value.ends_with('Z');
      if (utc) value.remove_suffix(1);
      bool dateOnly = false;
      auto local = icalLocal(value, dateOnly);
      if (!local) return core::fail(ErrorCode::Invalid, "an EXDATE of this series cannot be read");
      const auto tzid = params.find(";TZID=");
      core::Result<sys_seconds> at = sys_seconds(local->time_since_epoch());
      if (utc) {
        // the instant as given
      } else if (tzid != std::string_view::npos) {
        at = instantOf(*local, std::string(params.substr(tzid + 6, params.find(';', tzid + 6) - tzid - 6)));
      } else if (dateOnly && !std::holds_alternative<model::Date>(series.start)) {
        // a date cancels that day's occurrence of a timed series: at the series' time of day
        at = instantOf(*local + (frame.start - floor<days>(frame.start)), frame.zone);
      } else {
        at = instantOf(*local, frame.zone);  // floating: the series' wall clock
      }
      if (!at) return std::unexpected(at.error());
      out.push_back(*at);
    }
  }
  return out;
}

}  // namespace calgate::providers::microsoft
