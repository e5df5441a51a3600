#include "calgate/providers/caldav/ical_mapping.hpp"

#include "calgate/core/utf8.hpp"
#include "calgate/model/recurrence.hpp"
#include "calgate/model/vocabulary.hpp"
#include "calgate/providers/caldav/content_lines.hpp"
#include "calgate/providers/caldav/this_and_future.hpp"
#include "calgate/providers/caldav/zone_resolution.hpp"

#include <libical/ical.h>

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <set>

namespace calgate::providers::caldav {
namespace {

using model::detail::Row;

constexpr std::array<Row<model::Sensitivity>, 6> kClassWrite{{
    {model::Sensitivity::Default, "PUBLIC"},
    {model::Sensitivity::Public, "PUBLIC"},
    {model::Sensitivity::Normal, "PUBLIC"},
    {model::Sensitivity::Personal, "PRIVATE"},
    {model::Sensitivity::Private, "PRIVATE"},
    {model::Sensitivity::Confidential, "CONFIDENTIAL"},
}};
constexpr std::array<Row<model::Sensitivity>, 3> kClassRead{{
    {model::Sensitivity::Public, "PUBLIC"},
    {model::Sensitivity::Private, "PRIVATE"},
    {model::Sensitivity::Confidential, "CONFIDENTIAL"},
}};
constexpr std::array<Row<model::ShowAs>, 2> kTranspRead{{
    {model::ShowAs::Free, "TRANSPARENT"},
    {model::ShowAs::Busy, "OPAQUE"},
}};
// Outlook's free/busy over CalDAV (X-MICROSOFT-CDO-BUSYSTATUS), the Graph showAs vocabulary.
constexpr std::array<Row<model::ShowAs>, 5> kBusyStatus{{
    {model::ShowAs::Free, "FREE"},
    {model::ShowAs::Tentative, "TENTATIVE"},
    {model::ShowAs::Busy, "BUSY"},
    {model::ShowAs::OutOfOffice, "OOF"},
    {model::ShowAs::WorkingElsewhere, "WORKINGELSEWHERE"},
}};
constexpr std::array<Row<model::Status>, 3> kStatus{{
    {model::Status::Confirmed, "CONFIRMED"},
    {model::Status::Tentative, "TENTATIVE"},
    {model::Status::Cancelled, "CANCELLED"},
}};

struct ComponentDeleter {
  void operator()(icalcomponent* c) const { icalcomponent_free(c); }
};
using ComponentPtr = std::unique_ptr<icalcomponent, ComponentDeleter>;

// libical reports errors through a global errno; clear it around each call we check.
bool icalFailed() { return icalerrno != ICAL_NO_ERROR; }

// An event time as iCalendar text: the value and, for dates and zoned times, its parameter.
struct TimeText {
  std::string value;
  std::string param;  // "VALUE=DATE" or "TZID=<IANA name>"; empty for UTC and floating times
};

// The years calgate reads and writes in iCalendar: libical passes impossible dates through and
// cannot handle years past ~3000, so the reader refuses what lies outside; the writer refuses the
// same, never writing a copy it could not read back.
constexpr int kFirstYear = 1600;
constexpr int kLastYear = 3000;

core::Result<std::chrono::year_month_day> writableDay(std::chrono::year_month_day ymd) {
  if (!ymd.ok() || ymd.year() < std::chrono::year(kFirstYear) || ymd.year() > std::chrono::year(kLastYear)) {
    return core::fail(core::ErrorCode::Invalid, "a time outside the years 1600 to 3000 cannot be written in iCalendar");
  }
  return ymd;
}

// `value` as `width` decimal digits (it has no more).
void appendDigits(std::string& out, long long value, int width) {
  char buf[8];
  for (int i = width - 1; i >= 0; --i, value /= 10) buf[i] = static_cast<char>('0' + value % 10);
  out.append(buf, static_cast<std::size_t>(width));
}

// YYYYMMDD of a day.
std::string dateText(const std::chrono::year_month_day& ymd) {
  std::string out;
  out.reserve(16);
  appendDigits(out, static_cast<int>(ymd.year()), 4);
  appendDigits(out, static_cast<unsigned>(ymd.month()), 2);
  appendDigits(out, static_cast<unsigned>(ymd.day()), 2);
  return out;
}

// YYYYMMDDTHHMMSS of a wall-clock time, with a Z for UTC.
core::Result<std::string> dateTimeText(std::chrono::local_seconds local, bool utc) {
  const auto days = std::chrono::floor<std::chrono::days>(local);
  auto ymd = writableDay(std::chrono::year_month_day{days});
  if (!ymd) return std::unexpected(ymd.error());
  const long long secs = (local - days).count();
  std::string out = dateText(*ymd);
  out += 'T';
  appendDigits(out, secs / 3600, 2);
  appendDigits(out, secs / 60 % 60, 2);
  appendDigits(out, secs % 60, 2);
  if (utc) out += 'Z';
  return out;
}

core::Result<TimeText> timeText(const model::EventTime& t, std::set<std::string>& zones) {
  if (const auto* d = std::get_if<model::Date>(&t)) {
    auto ymd = writableDay(d->day);
    if (!ymd) return std::unexpected(ymd.error());
    return TimeText{dateText(*ymd), "VALUE=DATE"};
  }
  if (const auto* z = std::get_if<model::ZonedTime>(&t)) {
    if (z->zone == "UTC" || z->zone == "Etc/UTC") {
      auto text = dateTimeText(std::chrono::local_seconds{z->instant.time_since_epoch()}, true);
      if (!text) return std::unexpected(text.error());
      return TimeText{*text, {}};
    }
    if (!icaltimezone_get_builtin_timezone(z->zone.c_str())) {
      return core::fail(core::ErrorCode::Invalid, "time zone " + z->zone + " is unknown to libical");
    }
    zones.insert(z->zone);
    auto text = dateTimeText(model::localTimeOf(*z), false);
    if (!text) return std::unexpected(text.error());
    return TimeText{*text, "TZID=" + z->zone};
  }
  auto text = dateTimeText(std::get<model::FloatingTime>(t).local, false);
  if (!text) return std::unexpected(text.error());
  return TimeText{*text, {}};
}

// The earliest zoned instant the event mentions (only called when it has one).
std::chrono::sys_seconds earliestInstant(const model::Event& e) {
  std::optional<std::chrono::sys_seconds> earliest;
  for (const model::EventTime* t : {&e.start, &e.end, e.recurrenceId ? &*e.recurrenceId : nullptr}) {
    if (!t) continue;
    if (const auto* z = std::get_if<model::ZonedTime>(t); z && (!earliest || z->instant < *earliest)) earliest = z->instant;
  }
  return earliest.value_or(std::chrono::sys_seconds{});
}

}  // namespace

std::string_view classFor(model::Sensitivity s) { return model::detail::wireFor(kClassWrite, s, "PRIVATE"); }

model::Sensitivity sensitivityFromClass(std::optional<std::string_view> cls) {
  if (!cls) return model::Sensitivity::Public;
  return model::detail::modelFor(kClassRead, *cls, /*ignoreCase=*/true).value_or(model::Sensitivity::Private);
}

std::string_view transpFor(model::ShowAs s) { return s == model::ShowAs::Free ? "TRANSPARENT" : "OPAQUE"; }

model::ShowAs showAsFromTransp(std::optional<std::string_view> transp) {
  if (!transp) return model::ShowAs::Busy;
  return model::detail::modelFor(kTranspRead, *transp, true).value_or(model::ShowAs::Busy);
}

std::string_view busyStatusFor(model::ShowAs s) { return model::detail::wireFor(kBusyStatus, s, "BUSY"); }

model::ShowAs showAsFrom(std::optional<std::string_view> transp, std::optional<std::string_view> busyStatus) {
  // TRANSPARENT wins: a client that knows only TRANSP (Thunderbird, Apple) marks an Outlook event
  // free and leaves its X-MICROSOFT-CDO-BUSYSTATUS as it was
  const model::ShowAs coarse = showAsFromTransp(transp);
  if (coarse == model::ShowAs::Free || !busyStatus) return coarse;
  return model::detail::modelFor(kBusyStatus, *busyStatus, true).value_or(coarse);
}

std::string_view statusFor(model::Status s) { return model::detail::wireFor(kStatus, s, "CONFIRMED"); }

model::Status statusFrom(std::optional<std::string_view> status) {
  if (!status) return model::Status::Confirmed;
  return model::detail::modelFor(kStatus, *status, true).value_or(model::Status::Confirmed);
}

const std::vector<std::string_view>& writtenProperties() {
  static const std::vector<std::string_view> props = {
      "UID",    "DTSTAMP", "SEQUENCE", "SUMMARY", "DESCRIPTION", "LOCATION",       "DTSTART",         "DTEND",
      "RRULE",  "EXDATE",  "RDATE",    "RECURRENCE-ID", "CLASS", "TRANSP", "STATUS", "ATTENDEE",
      "X-MICROSOFT-CDO-BUSYSTATUS", "X-CALGATE-PAIR", "X-CALGATE-SOURCE"};
  return props;
}

const std::vector<std::string_view>& neverWrittenProperties() {
  static const std::vector<std::string_view> props = {"VALARM", "ATTACH",   "CATEGORIES", "COLOR",
                                                      "CONFERENCE", "ORGANIZER", "PARTSTAT", "IMAGE"};
  return props;
}

namespace {

// One RRULE, EXDATE or RDATE line, checked and written by libical (folded, CRLF-terminated).
core::Result<std::string> recurrenceText(const std::string& line) {
  icalerrno = ICAL_NO_ERROR;
  icalproperty* p = icalproperty_new_from_string(line.c_str());
  if (!p || icalFailed()) {
    if (p) icalproperty_free(p);
    return core::fail(core::ErrorCode::Invalid, "malformed recurrence line");
  }
  const icalproperty_kind kind = icalproperty_isa(p);
  if (kind != ICAL_RRULE_PROPERTY && kind != ICAL_EXDATE_PROPERTY && kind != ICAL_RDATE_PROPERTY) {
    icalproperty_free(p);
    return core::fail(core::ErrorCode::Invalid, "recurrence lines may only be RRULE, EXDATE or RDATE");
  }
  char* text = icalproperty_as_ical_string_r(p);
  icalproperty_free(p);
  if (!text) return core::fail(core::ErrorCode::Internal, "libical could not write a recurrence line");
  std::string out(text);
  icalmemory_free_buffer(text);
  return out;
}

// The VTIMEZONE of `zone` (known to libical) as text, with the transitions from January 1st of the
// year that holds `earliest` less 366 days on: the system zone carries every transition since the
// 1890s; recurrences and exceptions never precede their series. Built and written once per zone and
// year (cloning the whole zone and truncating it cost more than writing the rest of the event).
core::Result<std::string> zoneText(const std::string& zone, std::chrono::sys_seconds earliest) {
  const auto day = std::chrono::floor<std::chrono::days>(earliest - std::chrono::days(366));
  const int fromYear = static_cast<int>(std::chrono::year_month_day(day).year());
  static std::mutex mutex;
  static std::map<std::pair<std::string, int>, std::string> built;
  std::lock_guard lock(mutex);
  if (built.size() >= 4096) built.clear();  // zones x years in use: a bound, not a working set
  auto& slot = built[{zone, fromYear}];
  if (slot.empty()) {
    icaltimezone* tz = icaltimezone_get_builtin_timezone(zone.c_str());
    ComponentPtr vtimezone(icalcomponent_new_clone(icaltimezone_get_component(tz)));
    // Plain IANA names as TZIDs ("Europe/Berlin"), not libical's "/freeassociation.sourceforge.net/..."
    // (libical will not take an empty prefix). DTSTART/DTEND/RECURRENCE-ID refer to the same name.
    if (icalproperty* tzid = icalcomponent_get_first_property(vtimezone.get(), ICAL_TZID_PROPERTY)) {
      icalproperty_set_tzid(tzid, zone.c_str());
    }
    const std::chrono::sys_seconds jan1{std::chrono::sys_days{std::chrono::year{fromYear} / 1 / 1}};
    const icaltimetype from = icaltime_from_timet_with_zone(static_cast<time_t>(jan1.time_since_epoch().count()), 0,
                                                            icaltimezone_get_utc_timezone());
    icaltimezone_truncate_vtimezone(vtimezone.get(), from, icaltime_null_time(), 0);
    char* text = icalcomponent_as_ical_string_r(vtimezone.get());
    if (text) slot = text;
    icalmemory_free_buffer(text);
    if (slot.empty()) return core::fail(core::ErrorCode::Internal, "libical could not write time zone " + zone);
  }
  return slot;
}

// What one VEVENT needs, checked before a line of it is written.
struct CheckedEvent {
  TimeText start, end;
  std::optional<TimeText> recurrenceId;
  std::set<std::string> zones;
  std::string recurrence;  // RRULE/EXDATE/RDATE lines as libical wrote them
};

core::Result<CheckedEvent> check(const model::Event& event) {
  CheckedEvent c;
  auto start = timeText(event.start, c.zones);
  if (!start) return std::unexpected(start.error());
  auto end = timeText(event.end, c.zones);
  if (!end) return std::unexpected(end.error());
  c.start = std::move(*start);
  c.end = std::move(*end);
  if (event.recurrenceId) {
    auto rid = timeText(*event.recurrenceId, c.zones);
    if (!rid) return std::unexpected(rid.error());
    c.recurrenceId = std::move(*rid);
  }
  // Every TZID needs its VTIMEZONE (RFC 5545 §3.2.19), recurrence lines' included.
  for (const auto& zone : model::recurrenceZones(event.recurrence)) {
    if (!icaltimezone_get_builtin_timezone(zone.c_str())) {
      return core::fail(core::ErrorCode::Invalid, "time zone " + zone + " is unknown to libical");
    }
    c.zones.insert(zone);
  }
  for (const auto& line : event.recurrence) {
    if (line.find('\n') != std::string::npos || line.find('\r') != std::string::npos) {
      return core::fail(core::ErrorCode::Invalid, "recurrence line contains a line break");
    }
    // libical reads only the first value of an EXDATE/RDATE list: one property per value
    for (const auto& single : model::oneValuePerLine(line)) {
      auto text = recurrenceText(single);
      if (!text) return std::unexpected(text.error());
      c.recurrence += *text;
    }
  }
  return c;
}

// Writes one VEVENT, after the VTIMEZONEs it needs that were not written yet.
core::Result<void> addEvent(ContentLines& out, const model::Event& event, std::chrono::sys_seconds dtstamp,
                            int sequence, std::set<std::string>& zonesDone) {
  auto checked = check(event);
  if (!checked) return std::unexpected(checked.error());
  for (const auto& zone : checked->zones) {
    if (zonesDone.contains(zone)) continue;
    auto vtimezone = zoneText(zone, earliestInstant(event));
    if (!vtimezone) return std::unexpected(vtimezone.error());
    out.raw(*vtimezone);
    zonesDone.insert(zone);
  }
  auto stamp = dateTimeText(std::chrono::local_seconds{dtstamp.time_since_epoch()}, true);
  if (!stamp) return std::unexpected(stamp.error());
  out.begin("VEVENT");
  out.text("UID", event.uid);
  out.plain("DTSTAMP", *stamp);
  out.plain("SEQUENCE", std::to_string(sequence));
  out.text("SUMMARY", event.title);
  if (!event.description.empty()) out.text("DESCRIPTION", event.description);
  if (!event.location.empty()) out.text("LOCATION", event.location);
  out.plain("DTSTART", checked->start.value, checked->start.param);
  out.plain("DTEND", checked->end.value, checked->end.param);
  if (checked->recurrenceId) out.plain("RECURRENCE-ID", checked->recurrenceId->value, checked->recurrenceId->param);
  out.raw(checked->recurrence);
  out.plain("CLASS", classFor(event.sensitivity));
  out.plain("TRANSP", transpFor(event.showAs));
  // TRANSP says only free or busy: Outlook's property keeps tentative, out-of-office and working
  // elsewhere for the clients that read it (Outlook, Thunderbird, eM Client).
  out.plain("X-MICROSOFT-CDO-BUSYSTATUS", busyStatusFor(event.showAs));
  out.plain("STATUS", statusFor(event.status));
  for (const auto& attendee : event.attendees) out.plain("ATTENDEE", "mailto:" + attendee);
  if (event.origin) {
    out.text("X-CALGATE-PAIR", event.origin->pairId);
    out.text("X-CALGATE-SOURCE", event.origin->sourceKey);
  }
  out.end("VEVENT");
  return {};
}

}  // namespace

core::Result<std::string> calendarText(const std::vector<model::Event>& events, std::chrono::sys_seconds dtstamp,
                                       int sequence) {
  icalerror_set_errors_are_fatal(0);
  if (events.empty()) return core::fail(core::ErrorCode::Invalid, "no event to write");
  ContentLines out;
  out.begin("VCALENDAR");
  out.plain("VERSION", "2.0");
  out.text("PRODID", "-//calgate//calgate//EN");
  std::set<std::string> zonesDone;
  for (const auto& e : events) {
    if (e.uid != events.front().uid) return core::fail(core::ErrorCode::Invalid, "a series must share one UID");
    if (auto added = addEvent(out, e, dtstamp, sequence, zonesDone); !added) return std::unexpected(added.error());
  }
  out.end("VCALENDAR");
  return out.take();
}

core::Result<std::string> calendarText(const model::Event& event, std::chrono::sys_seconds dtstamp, int sequence) {
  return calendarText(std::vector<model::Event>{event}, dtstamp, sequence);
}

namespace {

std::string unfold(const char* text) {
  std::string out;
  if (!text) return out;
  for (const char* c = text; *c; ++c) {
    if (c[0] == '\r' && c[1] == '\n' && (c[2] == ' ' || c[2] == '\t')) {
      c += 2;
      continue;
    }
    if (c[0] == '\n' && (c[1] == ' ' || c[1] == '\t')) {
      c += 1;
      continue;
    }
    out += *c;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string mailtoAddress(const char* value) {
  std::string v = value ? value : "";
  if (v.size() >= 7 && (v.rfind("mailto:", 0) == 0 || v.rfind("MAILTO:", 0) == 0)) v = v.substr(7);
  return v;
}

// A TEXT property's value as the user wrote it: libical keeps it unescaped, and
// icalproperty_get_value_as_string would escape it again ("Lunch\, then walk").
std::string propertyText(icalcomponent* c, icalproperty_kind kind) {
  icalproperty* p = icalcomponent_get_first_property(c, kind);
  if (!p) return {};
  const icalvalue* value = icalproperty_get_value(p);
  const char* v = value && icalvalue_isa(value) == ICAL_TEXT_VALUE ? icalvalue_get_text(value)
                                                                    : icalproperty_get_value_as_string(p);
  return v ? v : "";
}

std::optional<std::string> optionalProperty(icalcomponent* c, icalproperty_kind kind) {
  icalproperty* p = icalcomponent_get_first_property(c, kind);
  if (!p) return std::nullopt;
  const char* v = icalproperty_get_value_as_string(p);
  return std::string(v ? v : "");
}

// The IANA zone of a TZID around a time (model/zone_names, caldav/zone_resolution): the window a
// custom VTIMEZONE's rules are compared over starts at the year before.
std::optional<std::string> resolvedZone(const std::string& tzid, const icaltimezone* defined,
                                        std::chrono::local_seconds around) {
  const auto year = std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(around)).year();
  const std::chrono::sys_seconds from{std::chrono::sys_days((year - std::chrono::years(1)) / 1 / 1)};
  // Matching a VTIMEZONE makes libical unfold its rules from their start (Outlook: 1601) up to the
  // window: only for times a calendar plausibly holds, so a hostile year 2900 costs nothing.
  const bool plausible = year >= std::chrono::year(1970) && year <= std::chrono::year(2100);
  // libical unfolds VTIMEZONE rules only up to 2035: later times are matched over 2032-2035, and
  // the IANA zone found carries the rules on
  const std::chrono::sys_seconds latest{std::chrono::sys_days(std::chrono::year(2032) / 1 / 1)};
  const auto start = std::min(from, latest);
  return resolveZone(tzid, plausible ? const_cast<icaltimezone*>(defined) : nullptr, start,
                     start + std::chrono::days(4 * 365));
}

// DTSTART-like property -> model time. `unresolved`: set when a zone matched no IANA zone and
// only the instant could be kept.
core::Result<model::EventTime> timeOf(icalproperty* prop, icaltimetype t, bool* unresolved = nullptr) {
  if (icaltime_is_null_time(t)) return core::fail(core::ErrorCode::Invalid, "missing or malformed date-time");
  // libical passes impossible dates through (month 24, day 48) and cannot write years past ~3000
  // (found by fuzzing): refuse them here.
  const std::chrono::year_month_day civil{std::chrono::year(t.year), std::chrono::month(static_cast<unsigned>(t.month)),
                                          std::chrono::day(static_cast<unsigned>(t.day))};
  if (t.year < kFirstYear || t.year > kLastYear || !civil.ok() || t.hour < 0 || t.hour > 23 || t.minute < 0 || t.minute > 59 ||
      t.second < 0 || t.second > 60) {
    return core::fail(core::ErrorCode::Invalid, "impossible date or time");
  }
  if (t.is_date) {
    return model::EventTime{model::Date{std::chrono::year_month_day{std::chrono::year(t.year),
                                                      std::chrono::month(static_cast<unsigned>(t.month)),
                                                      std::chrono::day(static_cast<unsigned>(t.day))}}};
  }
  const auto local = std::chrono::local_days{std::chrono::year(t.year) / static_cast<unsigned>(t.month) /
                                             static_cast<unsigned>(t.day)} +
                     std::chrono::hours(t.hour) + std::chrono::minutes(t.minute) + std::chrono::seconds(t.second);
  if (icaltime_is_utc(t)) {
    return model::EventTime{model::ZonedTime{std::chrono::sys_seconds(local.time_since_epoch()), "UTC"}};
  }
  icalparameter* tzidParam = prop ? icalproperty_get_first_parameter(prop, ICAL_TZID_PARAMETER) : nullptr;
  if (!tzidParam) return model::EventTime{model::FloatingTime{std::chrono::local_seconds(local.time_since_epoch())}};
  const std::string tzid = icalparameter_get_tzid(tzidParam) ? icalparameter_get_tzid(tzidParam) : "";
  // An IANA name, a Windows name (ICU's mapping) or a VTIMEZONE whose rules an IANA zone follows:
  // the wall-clock time stays in that zone, so a series keeps its time across DST changes.
  if (auto zone = resolvedZone(tzid, t.zone, local)) {
    auto zoned = model::zonedFromLocal(std::chrono::local_seconds(local.time_since_epoch()), *zone);
    if (!zoned) return std::unexpected(zoned.error());
    return model::EventTime{*zoned};
  }
  // A VTIMEZONE no IANA zone follows: the instant is right; wall-clock rules are lost (a series
  // with such a start is refused by the caller).
  if (t.zone) {
    const time_t instant = icaltime_as_timet_with_zone(t, t.zone);
    if (unresolved) *unresolved = true;
    return model::EventTime{model::ZonedTime{std::chrono::sys_seconds(std::chrono::seconds(instant)), "UTC"}};
  }
  return core::fail(core::ErrorCode::Invalid, "time zone " + core::utf8Clean(tzid, 64) + " is neither known nor defined");
}

// Recurrence lines name their zone as the resource does: the same IANA resolution, written into
// the line so the model (and every target) reads the same wall-clock time.
core::Result<std::string> recurrenceLine(icalcomponent* vevent, icalproperty* p) {
  if (icalparameter* tz = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER)) {
    const std::string tzid = icalparameter_get_tzid(tz) ? icalparameter_get_tzid(tz) : "";
    icalcomponent* root = icalcomponent_get_parent(vevent);
    icaltimezone* defined = root ? icalcomponent_get_timezone(root, tzid.c_str()) : nullptr;
    const icaltimetype first = icalproperty_isa(p) == ICAL_RRULE_PROPERTY ? icaltime_null_time()
                               : icalproperty_isa(p) == ICAL_EXDATE_PROPERTY ? icalproperty_get_exdate(p)
                                                                              : icalproperty_get_rdate(p).time;
    const auto anchor = std::chrono::local_days{std::chrono::year(first.year > kFirstYear ? first.year : 2000) / 1 / 1};
    auto zone = resolvedZone(tzid, defined, anchor);
    if (!zone) return core::fail(core::ErrorCode::Invalid, "a recurrence line names the time zone \"" + core::utf8Clean(tzid, 64) +
                                                              "\", which matches no known zone");
    icalparameter_set_tzid(tz, zone->c_str());
  }
  return unfold(icalproperty_as_ical_string(p));
}

core::Result<model::Event> eventOf(icalcomponent* c, bool* thisAndFuture) {
  model::Event e;
  const char* uid = icalcomponent_get_uid(c);
  if (!uid || !*uid) return core::fail(core::ErrorCode::Invalid, "VEVENT without UID");
  e.uid = uid;
  e.title = propertyText(c, ICAL_SUMMARY_PROPERTY);
  e.description = propertyText(c, ICAL_DESCRIPTION_PROPERTY);
  e.location = propertyText(c, ICAL_LOCATION_PROPERTY);
  icalproperty* dtstart = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
  if (!dtstart) return core::fail(core::ErrorCode::Invalid, "VEVENT without DTSTART");
  bool unresolvedStart = false;
  auto start = timeOf(dtstart, icalcomponent_get_dtstart(c), &unresolvedStart);
  if (!start) return std::unexpected(start.error());
  e.start = *start;
  if (icalproperty* dtend = icalcomponent_get_first_property(c, ICAL_DTEND_PROPERTY)) {
    auto end = timeOf(dtend, icalcomponent_get_dtend(c));
    if (!end) return std::unexpected(end.error());
    e.end = *end;
  } else if (icalcomponent_get_first_property(c, ICAL_DURATION_PROPERTY)) {
    const icaldurationtype d = icalcomponent_get_duration(c);
    const auto secs = std::chrono::seconds(icaldurationtype_as_int(d));
    if (auto* day = std::get_if<model::Date>(&e.start)) {
      e.end = model::Date{std::chrono::year_month_day{std::chrono::sys_days(day->day) +
                                               std::chrono::days(std::max<long long>(1, secs.count() / 86400))}};
    } else if (auto* z = std::get_if<model::ZonedTime>(&e.start)) {
      e.end = model::ZonedTime{z->instant + secs, z->zone};
    } else {
      e.end = model::FloatingTime{std::get<model::FloatingTime>(e.start).local + secs};
    }
  } else if (auto* day = std::get_if<model::Date>(&e.start)) {
    e.end = model::Date{std::chrono::year_month_day{std::chrono::sys_days(day->day) + std::chrono::days(1)}};
  } else {
    e.end = e.start;
  }
  if (icalproperty* rid = icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY)) {
    auto t = timeOf(rid, icalproperty_get_recurrenceid(rid));
    if (!t) return std::unexpected(t.error());
    e.recurrenceId = *t;
    if (icalparameter* range = icalproperty_get_first_parameter(rid, ICAL_RANGE_PARAMETER)) {
      if (icalparameter_get_range(range) == ICAL_RANGE_THISANDPRIOR) {
        return core::fail(core::ErrorCode::Invalid, "RECURRENCE-ID;RANGE=THISANDPRIOR (RFC 2445) is not supported");
      }
      *thisAndFuture = icalparameter_get_range(range) == ICAL_RANGE_THISANDFUTURE;
    }
  }
  for (auto kind : {ICAL_RRULE_PROPERTY, ICAL_EXDATE_PROPERTY, ICAL_RDATE_PROPERTY}) {
    for (icalproperty* p = icalcomponent_get_first_property(c, kind); p;
         p = icalcomponent_get_next_property(c, kind)) {
      auto line = recurrenceLine(c, p);
      if (!line) return std::unexpected(line.error());
      e.recurrence.push_back(std::move(*line));
    }
  }
  if (unresolvedStart && !e.recurrence.empty()) {
    return core::fail(core::ErrorCode::Invalid,
                      "the series' time zone matches no known zone: its occurrences cannot be placed in wall-clock time");
  }
  e.status = statusFrom(optionalProperty(c, ICAL_STATUS_PROPERTY));
  std::optional<std::string> busyStatus;
  for (icalproperty* p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY); p && !busyStatus;
       p = icalcomponent_get_next_property(c, ICAL_X_PROPERTY)) {
    const char* name = icalproperty_get_x_name(p);
    const char* value = icalproperty_get_x(p);
    if (name && value && std::string_view(name) == "X-MICROSOFT-CDO-BUSYSTATUS") busyStatus = value;
  }
  e.showAs = showAsFrom(optionalProperty(c, ICAL_TRANSP_PROPERTY), busyStatus);
  e.sensitivity = sensitivityFromClass(optionalProperty(c, ICAL_CLASS_PROPERTY));
  for (icalproperty* p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY); p;
       p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
    const std::string address = mailtoAddress(icalproperty_get_attendee(p));
    if (!address.empty()) e.attendees.push_back(address);
  }
  if (icalproperty* org = icalcomponent_get_first_property(c, ICAL_ORGANIZER_PROPERTY)) {
    e.organizer = mailtoAddress(icalproperty_get_organizer(org));
  }
  if (icalcomponent_get_first_property(c, ICAL_SEQUENCE_PROPERTY)) e.sequence = icalcomponent_get_sequence(c);
  if (icalproperty* lm = icalcomponent_get_first_property(c, ICAL_LASTMODIFIED_PROPERTY)) {
    e.updated = std::chrono::sys_seconds(std::chrono::seconds(icaltime_as_timet(icalproperty_get_lastmodified(lm))));
  }
  std::optional<std::string> pair, source;
  for (icalproperty* p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY); p;
       p = icalcomponent_get_next_property(c, ICAL_X_PROPERTY)) {
    const std::string name = icalproperty_get_x_name(p) ? icalproperty_get_x_name(p) : "";
    const char* value = icalproperty_get_x(p);
    if (name == "X-CALGATE-PAIR" && value) pair = value;
    if (name == "X-CALGATE-SOURCE" && value) source = value;
  }
  if (pair) e.origin = model::Origin{*pair, source.value_or("")};
  return e;
}

}  // namespace

core::Result<CalendarObject> parseCalendar(std::string_view text, bool splitRanges) {
  if (text.size() > 1024 * 1024) return core::fail(core::ErrorCode::Invalid, "calendar resource over 1 MiB");
  icalerror_set_errors_are_fatal(0);
  const std::string copy(text);
  ComponentPtr root(icalparser_parse_string(copy.c_str()));
  if (!root || icalcomponent_isa(root.get()) != ICAL_VCALENDAR_COMPONENT) {
    return core::fail(core::ErrorCode::Invalid, "not an iCalendar VCALENDAR");
  }
  if (icalcomponent_count_components(root.get(), ICAL_ANY_COMPONENT) > 1000) {
    return core::fail(core::ErrorCode::Invalid, "more than 1000 components in one resource");
  }
  CalendarObject object;
  std::string uid;
  std::vector<RangedEvent> events;
  for (icalcomponent* c = icalcomponent_get_first_component(root.get(), ICAL_VEVENT_COMPONENT); c;
       c = icalcomponent_get_next_component(root.get(), ICAL_VEVENT_COMPONENT)) {
    bool thisAndFuture = false;
    auto event = eventOf(c, &thisAndFuture);
    if (!event) return std::unexpected(event.error());
    if (!uid.empty() && event->uid != uid) {
      return core::fail(core::ErrorCode::Invalid, "a calendar resource holds more than one UID");
    }
    uid = event->uid;
    if (!event->recurrenceId) {
      if (!events.empty() && !events.front().event.recurrenceId) {
        return core::fail(core::ErrorCode::Invalid, "a calendar resource holds two VEVENTs without RECURRENCE-ID");
      }
      object.sequence = event->sequence;
      events.insert(events.begin(), {std::move(*event), false});
    } else {
      events.push_back({std::move(*event), thisAndFuture});
    }
  }
  if (!splitRanges) {
    for (auto& e : events) object.events.push_back(std::move(e.event));
    return object;
  }
  auto split = splitThisAndFuture(std::move(events));
  if (!split) return std::unexpected(split.error());
  object.events = std::move(*split);
  return object;
}

}  // namespace calgate::providers::caldav
