#include "calgate/providers/caldav/ical_mapping.hpp"

#include "calgate/providers/recurrence.hpp"
#include "vocabulary.hpp"

#include <libical/ical.h>

#include <memory>
#include <set>

namespace calgate::providers::caldav {
namespace {

using detail::Row;

constexpr std::array<Row<Sensitivity>, 6> kClassWrite{{
    {Sensitivity::Default, "PUBLIC"},
    {Sensitivity::Public, "PUBLIC"},
    {Sensitivity::Normal, "PUBLIC"},
    {Sensitivity::Personal, "PRIVATE"},
    {Sensitivity::Private, "PRIVATE"},
    {Sensitivity::Confidential, "CONFIDENTIAL"},
}};
constexpr std::array<Row<Sensitivity>, 3> kClassRead{{
    {Sensitivity::Public, "PUBLIC"},
    {Sensitivity::Private, "PRIVATE"},
    {Sensitivity::Confidential, "CONFIDENTIAL"},
}};
constexpr std::array<Row<ShowAs>, 2> kTranspRead{{
    {ShowAs::Free, "TRANSPARENT"},
    {ShowAs::Busy, "OPAQUE"},
}};
constexpr std::array<Row<Status>, 3> kStatus{{
    {Status::Confirmed, "CONFIRMED"},
    {Status::Tentative, "TENTATIVE"},
    {Status::Cancelled, "CANCELLED"},
}};

struct ComponentDeleter {
  void operator()(icalcomponent* c) const { icalcomponent_free(c); }
};
using ComponentPtr = std::unique_ptr<icalcomponent, ComponentDeleter>;

// libical reports errors through a global errno; clear it around each call we check.
bool icalFailed() { return icalerrno != ICAL_NO_ERROR; }

// An iCalendar time plus, for zoned times, the IANA zone its wall-clock digits are in.
struct IcalTime {
  icaltimetype value;
  std::string tzid;  // empty for dates, UTC and floating times
};

icaltimetype wallClock(std::chrono::local_seconds local) {
  const auto days = std::chrono::floor<std::chrono::days>(local);
  const std::chrono::year_month_day ymd{days};
  const long long secs = (local - days).count();
  icaltimetype v = icaltime_null_time();
  v.year = static_cast<int>(ymd.year());
  v.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  v.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  v.hour = static_cast<int>(secs / 3600);
  v.minute = static_cast<int>(secs / 60 % 60);
  v.second = static_cast<int>(secs % 60);
  return v;  // no zone: serialises as plain digits
}

core::Result<IcalTime> toIcalTime(const EventTime& t, std::set<std::string>& zones) {
  if (const auto* d = std::get_if<Date>(&t)) {
    icaltimetype v = icaltime_null_date();
    v.year = static_cast<int>(d->day.year());
    v.month = static_cast<int>(static_cast<unsigned>(d->day.month()));
    v.day = static_cast<int>(static_cast<unsigned>(d->day.day()));
    v.is_date = 1;
    return IcalTime{v, {}};
  }
  if (const auto* z = std::get_if<ZonedTime>(&t)) {
    if (z->zone == "UTC" || z->zone == "Etc/UTC") {
      return IcalTime{icaltime_from_timet_with_zone(static_cast<time_t>(z->instant.time_since_epoch().count()), 0,
                                                    icaltimezone_get_utc_timezone()),
                      {}};
    }
    if (!icaltimezone_get_builtin_timezone(z->zone.c_str())) {
      return core::fail(core::ErrorCode::Invalid, "time zone " + z->zone + " is unknown to libical");
    }
    zones.insert(z->zone);
    return IcalTime{wallClock(localTimeOf(*z)), z->zone};
  }
  return IcalTime{wallClock(std::get<FloatingTime>(t).local), {}};
}

// The earliest zoned instant the event mentions (only called when it has one).
std::chrono::sys_seconds earliestInstant(const Event& e) {
  std::optional<std::chrono::sys_seconds> earliest;
  for (const EventTime* t : {&e.start, &e.end, e.recurrenceId ? &*e.recurrenceId : nullptr}) {
    if (!t) continue;
    if (const auto* z = std::get_if<ZonedTime>(t); z && (!earliest || z->instant < *earliest)) earliest = z->instant;
  }
  return earliest.value_or(std::chrono::sys_seconds{});
}

// DTSTART/DTEND/RECURRENCE-ID: VALUE=DATE for dates, TZID=<IANA> for zoned times.
void addTimeProperty(icalcomponent* event, icalproperty_kind kind, const IcalTime& t) {
  icalproperty* p = icalproperty_new(kind);
  icalproperty_set_value(p, t.value.is_date ? icalvalue_new_date(t.value) : icalvalue_new_datetime(t.value));
  if (t.value.is_date) icalproperty_add_parameter(p, icalparameter_new_value(ICAL_VALUE_DATE));
  if (!t.tzid.empty()) icalproperty_add_parameter(p, icalparameter_new_tzid(t.tzid.c_str()));
  icalcomponent_add_property(event, p);
}

}  // namespace

std::string_view classFor(Sensitivity s) { return detail::wireFor(kClassWrite, s, "PRIVATE"); }

Sensitivity sensitivityFromClass(std::optional<std::string_view> cls) {
  if (!cls) return Sensitivity::Public;
  return detail::modelFor(kClassRead, *cls, /*ignoreCase=*/true).value_or(Sensitivity::Private);
}

std::string_view transpFor(ShowAs s) { return s == ShowAs::Free ? "TRANSPARENT" : "OPAQUE"; }

ShowAs showAsFromTransp(std::optional<std::string_view> transp) {
  if (!transp) return ShowAs::Busy;
  return detail::modelFor(kTranspRead, *transp, true).value_or(ShowAs::Busy);
}

std::string_view statusFor(Status s) { return detail::wireFor(kStatus, s, "CONFIRMED"); }

Status statusFrom(std::optional<std::string_view> status) {
  if (!status) return Status::Confirmed;
  return detail::modelFor(kStatus, *status, true).value_or(Status::Confirmed);
}

const std::vector<std::string_view>& writtenProperties() {
  static const std::vector<std::string_view> props = {
      "UID",    "DTSTAMP", "SEQUENCE", "SUMMARY", "DESCRIPTION", "LOCATION",       "DTSTART",         "DTEND",
      "RRULE",  "EXDATE",  "RDATE",    "RECURRENCE-ID", "CLASS", "TRANSP", "STATUS", "ATTENDEE",
      "X-CALGATE-PAIR", "X-CALGATE-SOURCE"};
  return props;
}

const std::vector<std::string_view>& neverWrittenProperties() {
  static const std::vector<std::string_view> props = {"VALARM", "ATTACH",   "CATEGORIES", "COLOR",
                                                      "CONFERENCE", "ORGANIZER", "PARTSTAT", "IMAGE"};
  return props;
}

core::Result<std::string> calendarText(const Event& event, std::chrono::sys_seconds dtstamp, int sequence) {
  icalerror_set_errors_are_fatal(0);
  icalerrno = ICAL_NO_ERROR;
  std::set<std::string> zones;
  auto start = toIcalTime(event.start, zones);
  if (!start) return std::unexpected(start.error());
  auto end = toIcalTime(event.end, zones);
  if (!end) return std::unexpected(end.error());
  std::optional<IcalTime> recurrenceId;
  if (event.recurrenceId) {
    auto rid = toIcalTime(*event.recurrenceId, zones);
    if (!rid) return std::unexpected(rid.error());
    recurrenceId = *rid;
  }

  ComponentPtr calendar(icalcomponent_new(ICAL_VCALENDAR_COMPONENT));
  icalcomponent_add_property(calendar.get(), icalproperty_new_version("2.0"));
  icalcomponent_add_property(calendar.get(), icalproperty_new_prodid("-//calgate//calgate//EN"));
  // Every TZID needs its VTIMEZONE (RFC 5545 §3.2.19), recurrence lines' included.
  for (const auto& zone : recurrenceZones(event.recurrence)) {
    if (!icaltimezone_get_builtin_timezone(zone.c_str())) {
      return core::fail(core::ErrorCode::Invalid, "time zone " + zone + " is unknown to libical");
    }
    zones.insert(zone);
  }
  for (const auto& zone : zones) {
    icaltimezone* tz = icaltimezone_get_builtin_timezone(zone.c_str());
    icalcomponent* vtimezone = icalcomponent_new_clone(icaltimezone_get_component(tz));
    // The system zone carries every transition since the 1890s; keep those from a year before
    // the event on (recurrences and exceptions never precede their series).
    icaltimetype from = icaltime_from_timet_with_zone(
        static_cast<time_t>(earliestInstant(event).time_since_epoch().count()) - 366 * 86400, 0,
        icaltimezone_get_utc_timezone());
    icaltimezone_truncate_vtimezone(vtimezone, from, icaltime_null_time(), 0);
    // Plain IANA names as TZIDs ("Europe/Berlin"), not libical's "/freeassociation.sourceforge.net/..."
    // (libical will not take an empty prefix). DTSTART/DTEND/RECURRENCE-ID refer to the same name.
    if (icalproperty* tzid = icalcomponent_get_first_property(vtimezone, ICAL_TZID_PROPERTY)) {
      icalproperty_set_tzid(tzid, zone.c_str());
    }
    icalcomponent_add_component(calendar.get(), vtimezone);
  }

  icalcomponent* vevent = icalcomponent_new(ICAL_VEVENT_COMPONENT);
  icalcomponent_add_component(calendar.get(), vevent);
  icalcomponent_add_property(vevent, icalproperty_new_uid(event.uid.c_str()));
  icalcomponent_add_property(
      vevent, icalproperty_new_dtstamp(icaltime_from_timet_with_zone(
                  static_cast<time_t>(dtstamp.time_since_epoch().count()), 0, icaltimezone_get_utc_timezone())));
  icalcomponent_add_property(vevent, icalproperty_new_sequence(sequence));
  icalcomponent_add_property(vevent, icalproperty_new_summary(event.title.c_str()));
  if (!event.description.empty()) {
    icalcomponent_add_property(vevent, icalproperty_new_description(event.description.c_str()));
  }
  if (!event.location.empty()) icalcomponent_add_property(vevent, icalproperty_new_location(event.location.c_str()));
  addTimeProperty(vevent, ICAL_DTSTART_PROPERTY, *start);
  addTimeProperty(vevent, ICAL_DTEND_PROPERTY, *end);
  if (recurrenceId) addTimeProperty(vevent, ICAL_RECURRENCEID_PROPERTY, *recurrenceId);
  for (const auto& line : event.recurrence) {
    if (line.find('\n') != std::string::npos || line.find('\r') != std::string::npos) {
      return core::fail(core::ErrorCode::Invalid, "recurrence line contains a line break");
    }
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
    icalcomponent_add_property(vevent, p);
  }
  icalcomponent_add_property(vevent, icalproperty_new_from_string(("CLASS:" + std::string(classFor(event.sensitivity))).c_str()));
  icalcomponent_add_property(vevent, icalproperty_new_from_string(("TRANSP:" + std::string(transpFor(event.showAs))).c_str()));
  icalcomponent_add_property(vevent, icalproperty_new_from_string(("STATUS:" + std::string(statusFor(event.status))).c_str()));
  for (const auto& attendee : event.attendees) {
    icalcomponent_add_property(vevent, icalproperty_new_attendee(("mailto:" + attendee).c_str()));
  }
  if (event.origin) {
    icalproperty* pair = icalproperty_new_x(event.origin->pairId.c_str());
    icalproperty_set_x_name(pair, "X-CALGATE-PAIR");
    icalcomponent_add_property(vevent, pair);
    icalproperty* source = icalproperty_new_x(event.origin->sourceKey.c_str());
    icalproperty_set_x_name(source, "X-CALGATE-SOURCE");
    icalcomponent_add_property(vevent, source);
  }
  char* text = icalcomponent_as_ical_string(calendar.get());
  if (!text) return core::fail(core::ErrorCode::Internal, "libical could not serialise the event");
  return std::string(text);
}

}  // namespace calgate::providers::caldav
