#include "calgate/model/occurrences.hpp"

#include "calgate/model/recurrence.hpp"

#include <date/tz.h>
#include <libical/ical.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>

namespace calgate::model {
namespace {

using namespace std::chrono;
using core::ErrorCode;
using core::fail;

// The wall clock a series is expanded in: every time it involves (its start, EXDATEs, RDATEs,
// overrides' recurrence ids) is brought into this zone's local time first.
struct Frame {
  bool allDay = false;
  bool floating = false;  // FloatingTime start: occurrences are FloatingTime too
  std::string zone;       // the start's zone, or the floating zone for dates and floating times
};

core::Result<local_seconds> localIn(sys_seconds instant, std::string_view zone) {
  try {
    const date::time_zone* tz = date::locate_zone(std::string(zone));
    const auto info = tz->get_info(date::sys_seconds(instant.time_since_epoch()));
    return local_seconds(instant.time_since_epoch() + info.offset);
  } catch (const std::exception&) {
    return fail(ErrorCode::Invalid, "unknown time zone \"" + std::string(zone.substr(0, 64)) + "\"");
  }
}

core::Result<sys_seconds> instantIn(local_seconds local, std::string_view zone) {
  auto zoned = zonedFromLocal(local, zone);
  if (!zoned) return std::unexpected(zoned.error());
  return zoned->instant;
}

core::Result<sys_seconds> instantOf(const EventTime& t, std::string_view floatingZone) {
  if (const auto* d = std::get_if<Date>(&t)) return instantIn(local_days(d->day), floatingZone);
  if (const auto* z = std::get_if<ZonedTime>(&t)) return z->instant;
  return instantIn(std::get<FloatingTime>(t).local, floatingZone);
}

// `t` as wall-clock time in the frame's zone (dates at midnight).
core::Result<local_seconds> frameLocalOf(const EventTime& t, const Frame& frame) {
  if (const auto* d = std::get_if<Date>(&t)) return local_seconds(local_days(d->day));
  if (const auto* z = std::get_if<ZonedTime>(&t)) return localIn(z->instant, frame.zone);
  return std::get<FloatingTime>(t).local;
}

// ---- libical times (wall clock only: no zone attached) ----

icaltimetype icalWallClock(local_seconds local, bool isDate) {
  const auto days = floor<std::chrono::days>(local);
  const year_month_day ymd{days};
  const long long secs = (local - days).count();
  // Not icaltime_null_date(): its hour/minute/second of -1 throw the iterator off (a WEEKLY rule
  // from 2026-12-24 then yields 2026-12-30).
  icaltimetype v = icaltime_null_time();
  v.year = static_cast<int>(ymd.year());
  v.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  v.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  if (isDate) {
    v.is_date = 1;
  } else {
    v.hour = static_cast<int>(secs / 3600);
    v.minute = static_cast<int>(secs / 60 % 60);
    v.second = static_cast<int>(secs % 60);
  }
  v.zone = nullptr;
  return v;
}

std::optional<local_seconds> localOfIcal(const icaltimetype& t) {
  if (icaltime_is_null_time(t)) return std::nullopt;
  const year_month_day ymd{year(t.year), month(static_cast<unsigned>(t.month)), day(static_cast<unsigned>(t.day))};
  if (!ymd.ok()) return std::nullopt;
  if (t.is_date) return local_seconds(local_days(ymd));
  if (t.hour < 0 || t.hour > 23 || t.minute < 0 || t.minute > 59 || t.second < 0 || t.second > 60) return std::nullopt;
  return local_days(ymd) + hours(t.hour) + minutes(t.minute) + seconds(t.second);
}

struct RecurDeleter {
  void operator()(icalrecur_iterator* it) const { icalrecur_iterator_free(it); }
};
using RecurIterator = std::unique_ptr<icalrecur_iterator, RecurDeleter>;

// ---- EXDATE / RDATE values in their normalised form (recurrence.hpp) ----

std::optional<year_month_day> parseDate(std::string_view v) {
  if (v.size() != 8 || v.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  const int y = std::stoi(std::string(v.substr(0, 4)));
  const unsigned m = static_cast<unsigned>(std::stoi(std::string(v.substr(4, 2))));
  const unsigned d = static_cast<unsigned>(std::stoi(std::string(v.substr(6, 2))));
  const year_month_day ymd{year(y), month(m), day(d)};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

struct LineTime {
  bool isDate = false;
  local_seconds local{};  // the value's digits (dates: midnight)
  enum class Ref { Floating, Utc, Tzid } ref = Ref::Floating;
};

std::optional<LineTime> parseTime(std::string_view v, bool isDate, bool hasTzid) {
  if (isDate) {
    const auto d = parseDate(v);
    if (!d) return std::nullopt;
    return LineTime{true, local_seconds(local_days(*d)), LineTime::Ref::Floating};
  }
  if ((v.size() != 15 && v.size() != 16) || v[8] != 'T') return std::nullopt;
  const auto d = parseDate(v.substr(0, 8));
  const auto digits = v.substr(9, 6);
  if (!d || digits.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  const int h = std::stoi(std::string(digits.substr(0, 2)));
  const int m = std::stoi(std::string(digits.substr(2, 2)));
  const int s = std::stoi(std::string(digits.substr(4, 2)));
  if (h > 23 || m > 59 || s > 60) return std::nullopt;
  const bool utc = v.size() == 16;
  if (utc && v[15] != 'Z') return std::nullopt;
  return LineTime{false, local_days(*d) + hours(h) + minutes(m) + seconds(s),
                  utc ? LineTime::Ref::Utc : (hasTzid ? LineTime::Ref::Tzid : LineTime::Ref::Floating)};
}

// A line value in the frame's wall clock. Floating values are the series' wall-clock time; so are
// values in the series' own zone, digit for digit (also a time a DST change skips).
core::Result<local_seconds> toFrame(const LineTime& t, const std::string& tzid, const Frame& frame) {
  if (t.isDate || t.ref == LineTime::Ref::Floating || (t.ref == LineTime::Ref::Tzid && tzid == frame.zone)) {
    return t.local;
  }
  if (t.ref == LineTime::Ref::Utc) return localIn(sys_seconds(t.local.time_since_epoch()), frame.zone);
  auto instant = instantIn(t.local, tzid);
  if (!instant) return std::unexpected(instant.error());
  return localIn(*instant, frame.zone);
}

struct LineSet {
  std::vector<std::string> rrules;                  // values after "RRULE:"
  std::set<local_seconds> exTimes;                  // excluded starts, frame wall clock (timed series)
  std::set<local_days> exDays;                      // excluded days (every occurrence that day)
  std::vector<std::pair<local_seconds, std::optional<seconds>>> rdates;  // start, PERIOD length
};

core::Result<void> readLine(const std::string& line, const Frame& frame, local_seconds timeOfDayFrom, LineSet& out) {
  const auto colon = line.find(':');
  const std::string_view head = std::string_view(line).substr(0, colon);
  const std::string_view value = std::string_view(line).substr(colon + 1);
  const std::string_view name = head.substr(0, head.find(';'));
  if (name == "RRULE") {
    out.rrules.emplace_back(value);
    return {};
  }
  std::string valueType = "DATE-TIME";
  std::string tzid;
  for (std::size_t at = head.find(';'); at != std::string_view::npos;) {
    const auto next = head.find(';', at + 1);
    const auto param = head.substr(at + 1, next == std::string_view::npos ? std::string_view::npos : next - at - 1);
    if (param.starts_with("VALUE=")) valueType = param.substr(6);
    if (param.starts_with("TZID=")) tzid = param.substr(5);
    at = next;
  }
  const bool exdate = name == "EXDATE";
  for (std::size_t start = 0; start <= value.size();) {
    const auto end = std::min(value.find(',', start), value.size());
    std::string_view item = value.substr(start, end - start);
    start = end + 1;
    std::optional<seconds> length;
    if (valueType == "PERIOD") {
      const auto slash = item.find('/');
      if (slash == std::string_view::npos) return fail(ErrorCode::Invalid, "malformed RDATE period");
      const std::string second(item.substr(slash + 1));
      item = item.substr(0, slash);
      if (second.find('P') != std::string::npos) {
        const icaldurationtype d = icaldurationtype_from_string(second.c_str());
        if (icaldurationtype_is_bad_duration(d) || d.is_neg) return fail(ErrorCode::Invalid, "malformed RDATE period");
        length = seconds(icaldurationtype_as_int(d));
      } else {
        const auto periodEnd = parseTime(second, false, !tzid.empty());
        const auto periodStart = parseTime(item, false, !tzid.empty());
        if (!periodEnd || !periodStart) return fail(ErrorCode::Invalid, "malformed RDATE period");
        // both ends share the line's reference (TZID, UTC or floating): compare as instants
        auto a = toFrame(*periodStart, tzid, Frame{false, false, "UTC"});
        auto b = toFrame(*periodEnd, tzid, Frame{false, false, "UTC"});
        if (!a || !b) return fail(ErrorCode::Invalid, "malformed RDATE period");
        length = std::max(seconds(0), *b - *a);
      }
    }
    const auto t = parseTime(item, valueType == "DATE", !tzid.empty());
    if (!t) return fail(ErrorCode::Invalid, "malformed " + std::string(name) + " value");
    auto local = toFrame(*t, tzid, frame);
    if (!local) return std::unexpected(local.error());
    if (exdate) {
      if (t->isDate || frame.allDay) out.exDays.insert(floor<days>(*local));
      else out.exTimes.insert(*local);
    } else if (frame.allDay) {
      out.rdates.emplace_back(floor<days>(*local), std::nullopt);
    } else if (t->isDate) {  // a date in a timed series: at the series' time of day
      out.rdates.emplace_back(*local + (timeOfDayFrom - floor<days>(timeOfDayFrom)), std::nullopt);
    } else {
      out.rdates.emplace_back(*local, length);
    }
  }
  return {};
}

// Overrides' recurrence ids in a series' frame: times (timed series) and days (a date replaces
// that day's occurrences).
struct Replaced {
  std::set<local_seconds> times;
  std::set<local_days> days;
};

core::Result<Replaced> replacedIn(const std::vector<const Event*>& overrides, const Frame& frame) {
  Replaced r;
  for (const Event* o : overrides) {
    auto local = frameLocalOf(*o->recurrenceId, frame);
    if (!local) return std::unexpected(local.error());
    if (frame.allDay || std::holds_alternative<Date>(*o->recurrenceId)) r.days.insert(floor<days>(*local));
    else r.times.insert(*local);
  }
  return r;
}

bool overlaps(sys_seconds start, sys_seconds end, sys_seconds from, sys_seconds to) {
  if (start >= to) return false;
  return end > from || (end <= start && start >= from);  // an instant event counts where it is
}

core::Result<void> addSingle(const Event& e, std::optional<EventTime> recurrenceId, sys_seconds from, sys_seconds to,
                             std::string_view floatingZone, std::vector<Occurrence>& out) {
  auto start = instantOf(e.start, floatingZone);
  if (!start) return std::unexpected(start.error());
  auto end = instantOf(e.end, floatingZone);
  if (!end) return std::unexpected(end.error());
  if (*end < *start) end = start;
  if (overlaps(*start, *end, from, to)) out.push_back(Occurrence{e.start, e.end, *start, *end, &e, std::move(recurrenceId)});
  return {};
}

// The generated occurrence starting at `local` (frame wall clock).
core::Result<Occurrence> occurrenceAt(const Event& master, const Frame& frame, local_seconds local, seconds length,
                                      int allDayDays) {
  Occurrence o;
  o.event = &master;
  if (frame.allDay) {
    const local_days day = floor<days>(local);
    o.start = Date{year_month_day{sys_days(day.time_since_epoch())}};
    o.end = Date{year_month_day{sys_days((day + days(allDayDays)).time_since_epoch())}};
    auto s = instantIn(day, frame.zone);
    auto e = instantIn(day + days(allDayDays), frame.zone);
    if (!s || !e) return fail(ErrorCode::Invalid, "unknown time zone");
    o.startInstant = *s;
    o.endInstant = *e;
  } else if (frame.floating) {
    o.start = FloatingTime{local};
    o.end = FloatingTime{local + length};
    auto s = instantIn(local, frame.zone);
    auto e = instantIn(local + length, frame.zone);
    if (!s || !e) return fail(ErrorCode::Invalid, "unknown time zone");
    o.startInstant = *s;
    o.endInstant = std::max(*s, *e);
  } else {
    auto s = instantIn(local, frame.zone);
    if (!s) return std::unexpected(s.error());
    const auto& masterStart = std::get<ZonedTime>(master.start);
    const auto* masterEnd = std::get_if<ZonedTime>(&master.end);
    o.start = ZonedTime{*s, masterStart.zone};
    o.end = ZonedTime{*s + length, masterEnd ? masterEnd->zone : masterStart.zone};
    o.startInstant = *s;
    o.endInstant = *s + length;
  }
  if (!master.recurrence.empty()) o.recurrenceId = o.start;
  return o;
}

constexpr bool subDaily(icalrecurrencetype_frequency f) {
  return f == ICAL_SECONDLY_RECURRENCE || f == ICAL_MINUTELY_RECURRENCE || f == ICAL_HOURLY_RECURRENCE;
}

template <std::size_t N>
std::vector<int> partValues(const short (&part)[N]) {
  std::vector<int> out;
  for (std::size_t i = 0; i < N && part[i] != ICAL_RECURRENCE_ARRAY_MAX; ++i) out.push_back(part[i]);
  return out;
}

template <std::size_t N>
void clearPart(short (&part)[N]) {
  part[0] = ICAL_RECURRENCE_ARRAY_MAX;
}

bool anyOf(const std::vector<int>& values, int v) {
  return values.empty() || std::find(values.begin(), values.end(), v) != values.end();
}

// A month or year day list (1..n from the start, -1..-n from the end) holds `day` of `length`.
bool ordinalMatch(const std::vector<int>& values, int day, int length) {
  if (values.empty()) return true;
  return std::any_of(values.begin(), values.end(), [&](int v) { return v > 0 ? v == day : length + 1 + v == day; });
}

constexpr int kGregorianCycleDays = 146097;  // 400 years: every calendar pattern repeats

// A rule's day-level parts (BYMONTH, BYMONTHDAY, BYYEARDAY, BYDAY's weekdays) as a filter that
// every occurrence passes, whether the part expands or limits at the rule's frequency; and for
// sub-daily rules the time-level parts that limit (BYHOUR; BYMINUTE below HOURLY; BYSECOND for
// SECONDLY).
struct Filters {
  std::vector<int> months, monthDays, yearDays, weekdays;  // weekdays: 0 = Sunday
  std::vector<int> hours, minutes, secondsOfMinute;

  bool dayOk(local_days d) const {
    const year_month_day ymd{d};
    if (!anyOf(months, static_cast<int>(static_cast<unsigned>(ymd.month())))) return false;
    if (!weekdays.empty() && !anyOf(weekdays, static_cast<int>(weekday(d).c_encoding()))) return false;
    const int monthLength = static_cast<int>(static_cast<unsigned>(year_month_day_last(ymd.year() / ymd.month() / last).day()));
    if (!ordinalMatch(monthDays, static_cast<int>(static_cast<unsigned>(ymd.day())), monthLength)) return false;
    const int yearDay = static_cast<int>((d - local_days(ymd.year() / January / 1)).count()) + 1;
    return ordinalMatch(yearDays, yearDay, ymd.year().is_leap() ? 366 : 365);
  }

  bool accepts(local_seconds t) const {
    const auto day = floor<days>(t);
    const auto s = static_cast<int>((t - day).count());
    return dayOk(day) && anyOf(hours, s / 3600) && anyOf(minutes, s / 60 % 60) && anyOf(secondsOfMinute, s % 60);
  }

  // The first day from `from` on (within one 400-year cycle) that passes.
  std::optional<local_days> dayFrom(local_days from) const {
    for (auto d = from; d < from + days(kGregorianCycleDays); d += days(1)) {
      if (dayOk(d)) return d;
    }
    return std::nullopt;
  }

  // The first time of day after `after` (or from midnight) that the time-level parts allow.
  std::optional<seconds> timeAfter(std::optional<seconds> after) const {
    const long long bound = after ? after->count() : -1;
    for (int h = 0; h < 24; ++h) {
      if (!anyOf(hours, h) || h * 3600 + 3599 <= bound) continue;
      for (int m = 0; m < 60; ++m) {
        if (!anyOf(minutes, m) || h * 3600 + m * 60 + 59 <= bound) continue;
        for (int sec = 0; sec < 60; ++sec) {
          const int t = h * 3600 + m * 60 + sec;
          if (anyOf(secondsOfMinute, sec) && t > bound) return seconds(t);
        }
      }
    }
    return std::nullopt;
  }

  // The first time after `t` that passes every filter.
  std::optional<local_seconds> nextAfter(local_seconds t) const {
    const auto day = floor<days>(t);
    if (dayOk(day)) {
      if (auto time = timeAfter(t - day)) return day + *time;
    }
    const auto next = dayFrom(day + days(1));
    if (!next) return std::nullopt;
    if (auto time = timeAfter(std::nullopt)) return *next + *time;
    return std::nullopt;
  }
};

Filters filtersOf(const icalrecurrencetype& rule) {
  Filters f;
  f.months = partValues(rule.by_month);
  f.monthDays = partValues(rule.by_month_day);
  f.yearDays = partValues(rule.by_year_day);
  for (int v : partValues(rule.by_day)) {
    f.weekdays.push_back(static_cast<int>(icalrecurrencetype_day_day_of_week(static_cast<short>(v))) - 1);
  }
  if (subDaily(rule.freq)) {
    f.hours = partValues(rule.by_hour);
    if (rule.freq != ICAL_HOURLY_RECURRENCE) f.minutes = partValues(rule.by_minute);
    if (rule.freq == ICAL_SECONDLY_RECURRENCE) f.secondsOfMinute = partValues(rule.by_second);
  }
  return f;
}

struct RuleRun {
  local_seconds dtstart;        // frame wall clock
  local_seconds skipTo;         // occurrences before this cannot reach the window
  sys_seconds windowEnd;
  local_seconds windowEndLocal; // the window's end in the frame's wall clock, with a day to spare
  std::size_t* generated;       // shared by all rules of the series
  std::size_t limit;
};

// Adds the starts one RRULE generates (up to the window's end) to `starts`.
//
// libical (3.0) searches for the next occurrence without any bound but the year 2582: for a rule
// that can never occur (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30) that takes 0.4 s, and for a sub-daily
// one minutes (HOURLY: 9 s; MINUTELY: more than 5 min). Its sub-daily and DAILY rules are also
// wrong with limiting parts: an INTERVAL is lost (HOURLY;INTERVAL=5;BYHOUR=1,...,10 yields every
// hour; MINUTELY;INTERVAL=7;BYDAY=TU leaves the 7-minute grid) and a negative BYMONTHDAY is
// never matched. So rules whose days can never occur are refused first, and DAILY and sub-daily
// rules reach libical without their limiting parts: libical then yields every period, this
// filters, and jumps (a later DTSTART on the rule's grid) over what cannot pass. libical ignores
// BYSETPOS below MONTHLY (so does this).
core::Result<void> runRule(const std::string& rruleValue, const Frame& frame, const RuleRun& run,
                           std::map<local_seconds, std::optional<seconds>>& starts) {
  icalerror_set_errors_are_fatal(0);
  icalerrno = ICAL_NO_ERROR;
  icalrecurrencetype rule = icalrecurrencetype_from_string(rruleValue.c_str());
  if (rule.freq == ICAL_NO_RECURRENCE || icalerrno != ICAL_NO_ERROR) {
    return fail(ErrorCode::Invalid, "RRULE libical cannot read");
  }
  // An all-day series has no times of day to repeat at. libical runs such rules on dates forever
  // or, with BYMONTH/BYDAY parts, searches for tens of seconds per occurrence (found by fuzzing).
  if (frame.allDay && subDaily(rule.freq)) {
    return fail(ErrorCode::Invalid, "RRULE repeats an all-day event more often than daily");
  }
  // UNTIL in the series' wall clock (libical compares it with the wall-clock occurrences as they are).
  if (!icaltime_is_null_time(rule.until)) {
    auto until = localOfIcal(rule.until);
    if (!until) return fail(ErrorCode::Invalid, "RRULE has an impossible UNTIL");
    if (icaltime_is_utc(rule.until) && !rule.until.is_date) {
      auto local = localIn(sys_seconds(until->time_since_epoch()), frame.zone);
      if (!local) return std::unexpected(local.error());
      until = *local;
    }
    if (frame.allDay) rule.until = icalWallClock(*until, true);
    else if (rule.until.is_date) rule.until = icalWallClock(*until + days(1) - seconds(1), false);  // the whole day
    else rule.until = icalWallClock(*until, false);
  }
  // COUNT is counted here: DTSTART is the first occurrence even when the rule does not match it
  // (RFC 5545 §3.8.5.3), which libical does not do, and filtered sub-daily rules need it anyway.
  const int count = rule.count;
  rule.count = 0;

  const Filters filters = filtersOf(rule);
  if (!filters.dayFrom(floor<days>(run.dtstart))) return fail(ErrorCode::Invalid, "RRULE can never occur");
  const bool filtered = rule.freq == ICAL_DAILY_RECURRENCE || (subDaily(rule.freq) && !frame.allDay);
  seconds step{0};  // a filtered rule's grid: DTSTART + k * step
  if (filtered) {
    clearPart(rule.by_month);
    clearPart(rule.by_month_day);
    clearPart(rule.by_year_day);
    clearPart(rule.by_day);
    if (subDaily(rule.freq)) clearPart(rule.by_hour);
    if (rule.freq == ICAL_MINUTELY_RECURRENCE || rule.freq == ICAL_SECONDLY_RECURRENCE) clearPart(rule.by_minute);
    if (rule.freq == ICAL_SECONDLY_RECURRENCE) clearPart(rule.by_second);
    const seconds unit = rule.freq == ICAL_DAILY_RECURRENCE      ? seconds(86400)
                         : rule.freq == ICAL_HOURLY_RECURRENCE   ? seconds(3600)
                         : rule.freq == ICAL_MINUTELY_RECURRENCE ? seconds(60)
                                                                 : seconds(1);
    step = unit * std::max<int>(1, rule.interval);
  }
  const auto gridPointAtOrBefore = [&](local_seconds t) { return run.dtstart + (t - run.dtstart) / step * step; };
  const auto iteratorFrom = [&](local_seconds dtstart) {
    return RecurIterator(icalrecur_iterator_new(rule, icalWallClock(dtstart, frame.allDay)));
  };

  // Start late when the window is far after DTSTART (not with COUNT: that needs every occurrence).
  // libical's icalrecur_iterator_set_start misaligns sub-daily rules with an INTERVAL (HOURLY;
  // INTERVAL=5 from 06:00 gives 10:00, 15:00, ...), so filtered rules start from a later DTSTART
  // on their grid instead, which yields the same occurrences from there on.
  const bool skip = count == 0 && run.skipTo > run.dtstart;
  RecurIterator it = iteratorFrom(skip && filtered ? gridPointAtOrBefore(run.skipTo) : run.dtstart);
  if (!it || icalerrno != ICAL_NO_ERROR) return fail(ErrorCode::Invalid, "RRULE libical cannot expand");
  if (skip && !filtered && !icalrecur_iterator_set_start(it.get(), icalWallClock(run.skipTo, frame.allDay))) {
    icalerrno = ICAL_NO_ERROR;
    it = iteratorFrom(run.dtstart);
    if (!it) return fail(ErrorCode::Invalid, "RRULE libical cannot expand");
  }

  std::size_t total = 1;  // DTSTART
  std::optional<local_seconds> previous;
  while (*run.generated < run.limit) {
    const auto local = localOfIcal(icalrecur_iterator_next(it.get()));
    if (!local || (previous && *local <= *previous)) break;  // done, or libical stuck (e.g. HOURLY on dates)
    previous = local;
    ++*run.generated;
    if (*local > run.windowEndLocal) break;
    if (filtered && !filters.accepts(*local)) {
      const auto next = filters.nextAfter(*local);
      if (!next || *next > run.windowEndLocal) break;
      if (const auto jump = gridPointAtOrBefore(*next); jump > *local) {
        it = iteratorFrom(jump);
        if (!it) return fail(ErrorCode::Invalid, "RRULE libical cannot expand");
      }
      continue;
    }
    if (*local == run.dtstart) continue;  // added and counted already
    if (count > 0 && total >= static_cast<std::size_t>(count)) break;
    ++total;
    auto instant = instantIn(*local, frame.zone);
    if (!instant) return std::unexpected(instant.error());
    if (*instant >= run.windowEnd) break;
    starts.emplace(*local, std::nullopt);
  }
  return {};
}

core::Result<void> expandSeries(const Event& master, const std::vector<const Event*>& overrides, sys_seconds from,
                                sys_seconds to, std::string_view floatingZone, const ExpansionLimits& limits,
                                std::vector<Occurrence>& out) {
  Frame frame;
  frame.allDay = std::holds_alternative<Date>(master.start);
  frame.floating = std::holds_alternative<FloatingTime>(master.start);
  frame.zone = std::holds_alternative<ZonedTime>(master.start) ? std::get<ZonedTime>(master.start).zone
                                                                : std::string(floatingZone);
  if (!isKnownZone(frame.zone)) return fail(ErrorCode::Invalid, "unknown time zone");

  auto dtstart = frameLocalOf(master.start, frame);
  if (!dtstart) return std::unexpected(dtstart.error());
  // The master's length: whole days for all-day, the time between start and end otherwise.
  int allDayDays = 1;
  seconds length{0};
  if (frame.allDay) {
    if (const auto* end = std::get_if<Date>(&master.end)) {
      allDayDays = std::max(1, static_cast<int>((sys_days(end->day) - sys_days(std::get<Date>(master.start).day)).count()));
    }
  } else if (frame.floating && std::holds_alternative<FloatingTime>(master.end)) {
    length = std::max(seconds(0), std::get<FloatingTime>(master.end).local - *dtstart);
  } else {
    auto s = instantOf(master.start, floatingZone);
    auto e = instantOf(master.end, floatingZone);
    if (!s || !e) return fail(ErrorCode::Invalid, "unknown time zone");
    length = std::max(seconds(0), *e - *s);
  }

  auto lines = normaliseRecurrence(master.recurrence);
  if (!lines) return std::unexpected(lines.error());
  LineSet set;
  for (std::size_t i = 0; i < lines->size(); ++i) {
    if (auto read = readLine((*lines)[i], frame, *dtstart, set); !read) {
      return fail(ErrorCode::Invalid, "recurrence line " + std::to_string(i + 1) + ": " + read.error().message);
    }
  }
  auto replaced = replacedIn(overrides, frame);
  if (!replaced) return std::unexpected(replaced.error());

  // The earliest start that can still overlap the window, with a day to spare.
  auto windowStart = localIn(from, frame.zone);
  if (!windowStart) return std::unexpected(windowStart.error());
  const local_seconds skipTo = frame.allDay ? local_seconds(floor<days>(*windowStart) - days(allDayDays + 1))
                                            : *windowStart - length - days(1);

  // start (frame wall clock) -> an RDATE PERIOD's own length
  std::map<local_seconds, std::optional<seconds>> starts;
  starts.emplace(frame.allDay ? local_seconds(floor<days>(*dtstart)) : *dtstart, std::nullopt);
  auto windowEnd = localIn(to, frame.zone);
  if (!windowEnd) return std::unexpected(windowEnd.error());
  std::size_t generated = 0;
  const RuleRun run{frame.allDay ? local_seconds(floor<days>(*dtstart)) : *dtstart,
                    skipTo,
                    to,
                    *windowEnd + days(1),
                    &generated,
                    limits.maxOccurrences};
  for (const auto& rrule : set.rrules) {
    if (auto ran = runRule(rrule, frame, run, starts); !ran) return std::unexpected(ran.error());
  }
  if (limits.failWhenReached && generated >= limits.maxOccurrences) {
    return fail(ErrorCode::Invalid,
                "a series has more than " + std::to_string(limits.maxOccurrences) + " occurrences to expand",
                core::Cause::BudgetExceeded);
  }
  for (const auto& [start, periodLength] : set.rdates) {
    auto [at, inserted] = starts.emplace(start, periodLength);
    if (!inserted && periodLength) at->second = periodLength;
  }

  // Excluded and replaced times match as instants, so a time given in another zone (or in UTC)
  // finds its occurrence also where the DST change skips or repeats its wall-clock time.
  std::set<sys_seconds> removedInstants;
  for (const auto* locals : {&set.exTimes, &replaced->times}) {
    for (const auto& local : *locals) {
      auto instant = instantIn(local, frame.zone);
      if (!instant) return std::unexpected(instant.error());
      removedInstants.insert(*instant);
    }
  }
  for (const auto& [start, periodLength] : starts) {
    const auto day = floor<days>(start);
    if (set.exDays.contains(day) || replaced->days.contains(day)) continue;
    auto o = occurrenceAt(master, frame, start, periodLength.value_or(length), allDayDays);
    if (!o) return std::unexpected(o.error());
    if (!frame.allDay && removedInstants.contains(o->startInstant)) continue;
    if (overlaps(o->startInstant, o->endInstant, from, to)) out.push_back(std::move(*o));
  }
  return {};
}

}  // namespace

core::Result<std::vector<Occurrence>> expandOccurrences(const std::vector<Event>& events, sys_seconds from,
                                                        sys_seconds to, std::string_view floatingZone,
                                                        ExpansionLimits limits) {
  if (to < from) return fail(ErrorCode::Invalid, "time window ends before it starts");
  if (!isKnownZone(floatingZone)) return fail(ErrorCode::Invalid, "unknown floating time zone");

  // Series in order of first appearance: masters and overrides by Event::id (uid without an id).
  struct Group {
    std::vector<const Event*> masters;
    std::vector<const Event*> overrides;
  };
  std::vector<Group> groups;
  std::unordered_map<std::string, std::size_t> byKey;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    const std::string key = !e.id.empty() ? "i:" + e.id : !e.uid.empty() ? "u:" + e.uid : "#" + std::to_string(i);
    auto [at, inserted] = byKey.emplace(key, groups.size());
    if (inserted) groups.emplace_back();
    auto& group = groups[at->second];
    (e.recurrenceId ? group.overrides : group.masters).push_back(&e);
  }

  std::vector<Occurrence> out;
  try {
    for (const auto& group : groups) {
      if (group.masters.empty()) {  // overrides without their master: single events
        for (const Event* o : group.overrides) {
          if (o->status == Status::Cancelled) continue;
          if (auto added = addSingle(*o, o->recurrenceId, from, to, floatingZone, out); !added) {
            return std::unexpected(added.error());
          }
        }
        continue;
      }
      bool anyLive = false;
      for (const Event* m : group.masters) {
        if (m->status == Status::Cancelled) continue;
        anyLive = true;
        if (auto expanded = expandSeries(*m, group.overrides, from, to, floatingZone, limits, out); !expanded) {
          // ids name events without revealing their content
          return fail(expanded.error().code, "event " + m->id.substr(0, 200) + ": " + expanded.error().message,
                      expanded.error().cause);
        }
      }
      if (!anyLive) continue;  // a cancelled series takes its overrides with it
      for (const Event* o : group.overrides) {
        if (o->status == Status::Cancelled) continue;
        if (auto added = addSingle(*o, o->recurrenceId, from, to, floatingZone, out); !added) {
          return std::unexpected(added.error());
        }
      }
    }
  } catch (const std::exception& e) {  // date's tz database, allocation: never past this boundary
    return fail(ErrorCode::Internal, std::string("recurrence expansion failed: ") + e.what());
  }

  std::stable_sort(out.begin(), out.end(), [](const Occurrence& a, const Occurrence& b) {
    if (a.startInstant != b.startInstant) return a.startInstant < b.startInstant;
    return a.endInstant < b.endInstant;
  });
  return out;
}

}  // namespace calgate::model
