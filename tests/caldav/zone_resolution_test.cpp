// TZIDs as real clients write them (IANA names, libical's prefixed names, Windows names, Outlook's
// "Customized Time Zone" VTIMEZONEs) resolved to IANA zones.
#include "calgate/model/event.hpp"
#include "calgate/providers/caldav/zone_resolution.hpp"

#include <catch2/catch.hpp>
#include <libical/ical.h>

#include <memory>

using calgate::providers::caldav::resolveZone;
using namespace std::chrono;

namespace {

const sys_seconds k2026 = sys_days(2026y / January / 1);
const sys_seconds k2028 = sys_days(2028y / January / 1);

// Outlook's export of a zone with EU rules around +01:00 (its "Customized Time Zone": observances
// from 1601 with a yearly rule).
constexpr const char* kEuropeRules = R"(BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
)";

// US Eastern rules since 2007.
constexpr const char* kUsEasternRules = R"(BEGIN:STANDARD
DTSTART:16010101T020000
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3
END:DAYLIGHT
)";

// EU rules around +01:30: no IANA zone.
constexpr const char* kOddRules = R"(BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0230
TZOFFSETTO:+0130
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0130
TZOFFSETTO:+0230
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
)";

constexpr const char* kNepalRules = R"(BEGIN:STANDARD
DTSTART:16010101T000000
TZOFFSETFROM:+0545
TZOFFSETTO:+0545
END:STANDARD
)";

// A VCALENDAR as Outlook sends it: the VTIMEZONE, then an event in it (TZID quoted, as Outlook does).
std::string outlookCalendar(const std::string& tzid, const std::string& observances) {
  std::string text = "BEGIN:VCALENDAR\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\nVERSION:2.0\n"
                     "METHOD:REQUEST\nX-MS-OLK-FORCEINSPECTOROPEN:TRUE\nBEGIN:VTIMEZONE\nTZID:" +
                     tzid + "\n" + observances +
                     "END:VTIMEZONE\nBEGIN:VEVENT\nCLASS:PUBLIC\nCREATED:20260301T090000Z\n"
                     "DTEND;TZID=\"" + tzid + "\":20260615T110000\nDTSTAMP:20260301T090000Z\n"
                     "DTSTART;TZID=\"" + tzid + "\":20260615T100000\nLAST-MODIFIED:20260301T090000Z\n"
                     "PRIORITY:5\nSEQUENCE:0\nSUMMARY;LANGUAGE=en-us:Planning\nTRANSP:OPAQUE\n"
                     "UID:040000008200E00074C5B7101A82E00800000000D0D3C9F1A2A9DA01000000000000000010000000\n"
                     "X-MICROSOFT-CDO-BUSYSTATUS:BUSY\nEND:VEVENT\nEND:VCALENDAR\n";
  std::string crlf;
  for (const char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  return crlf;
}

struct CalendarDeleter {
  void operator()(icalcomponent* c) const { icalcomponent_free(c); }
};
struct ZoneDeleter {
  void operator()(icaltimezone* z) const { icaltimezone_free(z, 1); }
};
using Calendar = std::unique_ptr<icalcomponent, CalendarDeleter>;
using Zone = std::unique_ptr<icaltimezone, ZoneDeleter>;

// The resource's VTIMEZONE as an icaltimezone of its own (the component moves into the zone).
Zone zoneOf(const std::string& calendarText) {
  Calendar calendar(icalparser_parse_string(calendarText.c_str()));
  REQUIRE(calendar);
  icalcomponent* vtimezone = icalcomponent_get_first_component(calendar.get(), ICAL_VTIMEZONE_COMPONENT);
  REQUIRE(vtimezone);
  icalcomponent_remove_component(calendar.get(), vtimezone);
  Zone zone(icaltimezone_new());
  if (!icaltimezone_set_component(zone.get(), vtimezone)) {
    icalcomponent_free(vtimezone);
    FAIL("libical refused the VTIMEZONE");
  }
  return zone;
}

seconds libicalOffset(icaltimezone* zone, sys_seconds t) {
  icaltimetype tt = icaltime_from_timet_with_zone(static_cast<time_t>(t.time_since_epoch().count()), 0,
                                                  icaltimezone_get_utc_timezone());
  int isDaylight = 0;
  return seconds(icaltimezone_get_utc_offset_of_utc_time(zone, &tt, &isDaylight));
}

seconds ianaOffset(const std::string& zone, sys_seconds t) {
  using calgate::model::localTimeOf;
  return localTimeOf(calgate::model::ZonedTime{t, zone}).time_since_epoch() - t.time_since_epoch();
}

// The IANA zone keeps the VTIMEZONE's offsets every 6 hours of 2026-2027 and on both sides of
// each of its changes.
void requireSameOffsets(const std::string& iana, icaltimezone* defined) {
  for (sys_seconds t = k2026; t < k2028; t += hours(6)) {
    INFO(iana << " at " << calgate::model::formatUtc(t));
    REQUIRE(ianaOffset(iana, t) == libicalOffset(defined, t));
    if (libicalOffset(defined, t) != libicalOffset(defined, t + hours(6))) {
      sys_seconds lo = t;
      sys_seconds hi = t + hours(6);
      while (hi - lo > seconds(1)) {
        const sys_seconds mid = lo + (hi - lo) / 2;
        (libicalOffset(defined, mid) == libicalOffset(defined, lo) ? lo : hi) = mid;
      }
      REQUIRE(ianaOffset(iana, lo) == libicalOffset(defined, lo));
      REQUIRE(ianaOffset(iana, hi) == libicalOffset(defined, hi));
    }
  }
}

}  // namespace

TEST_CASE("resolveZone: IANA names, libical's prefix, Windows names", "[zones]") {
  CHECK(resolveZone("Europe/Berlin", nullptr, k2026, k2028) == "Europe/Berlin");
  CHECK(resolveZone("/freeassociation.sourceforge.net/Europe/Berlin", nullptr, k2026, k2028) == "Europe/Berlin");
  CHECK(resolveZone("/freeassociation.sourceforge.net/Tzfile/America/New_York", nullptr, k2026, k2028) ==
        "America/New_York");
  CHECK(resolveZone("UTC", nullptr, k2026, k2028) == "UTC");
  CHECK(resolveZone("US/Pacific", nullptr, k2026, k2028) == "US/Pacific");  // known: as it is
  CHECK(resolveZone("W. Europe Standard Time", nullptr, k2026, k2028) == "Europe/Berlin");
  CHECK(resolveZone("Pacific Standard Time", nullptr, k2026, k2028) == "America/Los_Angeles");
  CHECK(resolveZone("India Standard Time", nullptr, k2026, k2028) == "Asia/Kolkata");
  CHECK_FALSE(resolveZone("Customized Time Zone", nullptr, k2026, k2028));
  CHECK_FALSE(resolveZone("", nullptr, k2026, k2028));
  CHECK_FALSE(resolveZone("/freeassociation.sourceforge.net/", nullptr, k2026, k2028));
}

TEST_CASE("resolveZone: Outlook's custom VTIMEZONEs", "[zones]") {
  SECTION("EU rules around +01:00") {
    const Zone zone = zoneOf(outlookCalendar("Customized Time Zone", kEuropeRules));
    const auto iana = resolveZone("Customized Time Zone", zone.get(), k2026, k2028);
    REQUIRE(iana);
    CHECK(*iana == "Europe/Berlin");  // no name to prefer: the first zone with CET's EU rules
    requireSameOffsets(*iana, zone.get());
    // The same VTIMEZONE in another resource (answered from the cache), and over another window.
    const Zone again = zoneOf(outlookCalendar("Customized Time Zone", kEuropeRules));
    CHECK(resolveZone("Customized Time Zone", again.get(), k2026, k2028) == iana);
    CHECK(resolveZone("Customized Time Zone", again.get(), k2028, k2028 + days(90)) == iana);
  }
  SECTION("US Eastern rules") {
    const Zone zone = zoneOf(outlookCalendar("Customized Time Zone", kUsEasternRules));
    const auto iana = resolveZone("Customized Time Zone", zone.get(), k2026, k2028);
    REQUIRE(iana);
    CHECK(iana->starts_with("America/"));
    requireSameOffsets(*iana, zone.get());
  }
  SECTION("a fixed +05:45") {
    const Zone zone = zoneOf(outlookCalendar("Customized Time Zone", kNepalRules));
    CHECK(resolveZone("Customized Time Zone", zone.get(), k2026, k2028) == "Asia/Kathmandu");
  }
  SECTION("a Windows name with its VTIMEZONE") {
    const Zone zone = zoneOf(outlookCalendar("W. Europe Standard Time", kEuropeRules));
    const auto iana = resolveZone("W. Europe Standard Time", zone.get(), k2026, k2028);
    CHECK(iana == "Europe/Berlin");
    requireSameOffsets(*iana, zone.get());
    const Zone eastern = zoneOf(outlookCalendar("Eastern Standard Time", kUsEasternRules));
    CHECK(resolveZone("Eastern Standard Time", eastern.get(), k2026, k2028) == "America/New_York");
  }
  SECTION("rules no IANA zone follows") {
    const Zone zone = zoneOf(outlookCalendar("Customized Time Zone", kOddRules));
    CHECK_FALSE(resolveZone("Customized Time Zone", zone.get(), k2026, k2028));
  }
  SECTION("the zone libical attaches to a parsed DTSTART") {
    Calendar calendar(icalparser_parse_string(outlookCalendar("Customized Time Zone", kEuropeRules).c_str()));
    REQUIRE(calendar);
    icalcomponent* event = icalcomponent_get_first_component(calendar.get(), ICAL_VEVENT_COMPONENT);
    REQUIRE(event);
    const icaltimetype start = icalcomponent_get_dtstart(event);
    REQUIRE(start.zone);
    icalproperty* dtstart = icalcomponent_get_first_property(event, ICAL_DTSTART_PROPERTY);
    const std::string tzid = icalparameter_get_tzid(icalproperty_get_first_parameter(dtstart, ICAL_TZID_PARAMETER));
    CHECK(tzid == "Customized Time Zone");
    // libical hands the zone out as const; reading offsets expands its changes in place.
    CHECK(resolveZone(tzid, const_cast<icaltimezone*>(start.zone), k2026, k2028) == "Europe/Berlin");
  }
}

TEST_CASE("resolveZone: malformed VTIMEZONEs resolve to nothing, without crashing", "[zones]") {
  SECTION("no observance") {
    const Zone zone = zoneOf(outlookCalendar("Customized Time Zone", ""));
    CHECK_FALSE(resolveZone("Customized Time Zone", zone.get(), k2026, k2028));
  }
  SECTION("observances without offsets") {
    const Zone zone = zoneOf(outlookCalendar("Customized Time Zone", "BEGIN:STANDARD\nDTSTART:16010101T000000\n"
                                                                     "END:STANDARD\nBEGIN:DAYLIGHT\nEND:DAYLIGHT\n"));
    CHECK_FALSE(resolveZone("Customized Time Zone", zone.get(), k2026, k2028));
  }
  SECTION("a reversed window") {
    const Zone zone = zoneOf(outlookCalendar("Customized Time Zone", kEuropeRules));
    CHECK_FALSE(resolveZone("Customized Time Zone", zone.get(), k2028, k2026));
  }
  SECTION("a malformed VTIMEZONE with a Windows name: the name decides") {
    const Zone zone = zoneOf(outlookCalendar("Tokyo Standard Time", ""));
    CHECK(resolveZone("Tokyo Standard Time", zone.get(), k2026, k2028) == "Asia/Tokyo");
  }
}
