// iCalendar as real clients export it, read by the CalDAV mapping: RECURRENCE-ID;RANGE=THISANDFUTURE
// (Apple Calendar, Thunderbird), Outlook's X-MICROSOFT-CDO-BUSYSTATUS, resources calgate cannot
// take. Every occurrence is checked, not only the master.
#include "calgate/model/occurrences.hpp"
#include "calgate/providers/caldav/ical_mapping.hpp"
#include "calgate/providers/caldav/this_and_future.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

using namespace calgate;
using namespace calgate::providers::caldav;
using namespace std::chrono;

namespace {

std::string calendar(const std::string& body) {
  return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Apple Inc.//macOS 14.6//EN\r\nCALSCALE:GREGORIAN\r\n" + body +
         "END:VCALENDAR\r\n";
}

/// Every occurrence of the parsed events in [from, to), as "<local Berlin start>-<local end>" per part id.
std::map<std::string, std::vector<std::string>> occurrencesByPart(const std::vector<model::Event>& events,
                                                                  sys_seconds from, sys_seconds to) {
  auto occ = model::expandOccurrences(events, from, to);
  REQUIRE(occ);
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& o : *occ) {
    const auto local = [](const model::EventTime& t) {
      return model::formatLocal(model::localTimeOf(model::ZonedTime{std::get<model::ZonedTime>(t).instant, "Europe/Berlin"}));
    };
    out[o.event->id].push_back(local(o.start) + "/" + local(o.end).substr(11));
  }
  return out;
}

const char* kBerlin =
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
    "DTSTART:19810329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZNAME:CEST\r\nEND:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nDTSTART:19961027T030000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZNAME:CET\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

}  // namespace

TEST_CASE("THISANDFUTURE moves every later occurrence and takes the change's properties", "[caldav][recurrence]") {
  // Apple Calendar: "change all future events" on a weekly meeting, from the third week on it is
  // at 14:00 for 90 minutes with a new title. Thirty weeks: the change spans the DST switch.
  const std::string text = calendar(std::string(kBerlin) +
                                    "BEGIN:VEVENT\r\nUID:weekly-1\r\nDTSTAMP:20261101T120000Z\r\n"
                                    "DTSTART;TZID=Europe/Berlin:20261102T090000\r\nDTEND;TZID=Europe/Berlin:20261102T100000\r\n"
                                    "RRULE:FREQ=WEEKLY;COUNT=30\r\nSUMMARY:Weekly sync\r\nEND:VEVENT\r\n"
                                    "BEGIN:VEVENT\r\nUID:weekly-1\r\nDTSTAMP:20261101T120000Z\r\n"
                                    "RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20261116T090000\r\n"
                                    "DTSTART;TZID=Europe/Berlin:20261116T140000\r\nDTEND;TZID=Europe/Berlin:20261116T153000\r\n"
                                    "SUMMARY:Weekly sync (afternoon)\r\nEND:VEVENT\r\n");
  auto object = parseCalendar(text);
  REQUIRE(object);
  const auto& events = object->events;
  REQUIRE(events.size() == 2);
  CHECK(events[0].id.empty());
  CHECK(events[0].title == "Weekly sync");
  CHECK(events[0].recurrence == std::vector<std::string>{"RRULE:FREQ=WEEKLY;UNTIL=20261116T075959Z"});
  CHECK(events[1].id == "#from=2026-11-16T08:00:00Z");
  CHECK_FALSE(events[1].recurrenceId);
  CHECK(events[1].title == "Weekly sync (afternoon)");
  CHECK(resourceOf("/cal/weekly-1.ics" + events[1].id) == "/cal/weekly-1.ics");

  const auto parts = occurrencesByPart(events, sys_days(2026y / 10 / 1), sys_days(2027y / 12 / 31));
  REQUIRE(parts.size() == 2);
  CHECK(parts.at("") == std::vector<std::string>{"2026-11-02T09:00:00/10:00:00", "2026-11-09T09:00:00/10:00:00"});
  const auto& later = parts.at(events[1].id);
  REQUIRE(later.size() == 28);  // 30 weeks, two before the change
  for (const auto& o : later) {
    INFO(o);
    CHECK(o.substr(10) == "T14:00:00/15:30:00");  // wall-clock kept across 28 March 2027
  }
  CHECK(later.front() == "2026-11-16T14:00:00/15:30:00");
  CHECK(later.back() == "2027-05-24T14:00:00/15:30:00");

  // the second part as calgate writes it (one VCALENDAR of its own) reads back the same
  auto written = calendarText(events[1], sys_days(2026y / 11 / 21));
  REQUIRE(written);
  auto back = parseCalendar(*written);
  REQUIRE(back);
  INFO(*written);
  CHECK(occurrencesByPart(back->events, sys_days(2026y / 10 / 1), sys_days(2027y / 12 / 31)).at("") == later);
}

TEST_CASE("THISANDFUTURE keeps later exceptions and cancellations, moved with the series", "[caldav][recurrence]") {
  // Thunderbird: a daily stand-up, one day cancelled (EXDATE) and one moved after the change.
  const std::string text = calendar(std::string(kBerlin) +
                                    "BEGIN:VEVENT\r\nUID:daily-1\r\nDTSTAMP:20261101T120000Z\r\n"
                                    "DTSTART;TZID=Europe/Berlin:20261102T093000\r\nDTEND;TZID=Europe/Berlin:20261102T094500\r\n"
                                    "RRULE:FREQ=DAILY;UNTIL=20261112T083000Z\r\n"
                                    "EXDATE;TZID=Europe/Berlin:20261110T093000\r\nSUMMARY:Stand-up\r\nEND:VEVENT\r\n"
                                    "BEGIN:VEVENT\r\nUID:daily-1\r\nDTSTAMP:20261101T120000Z\r\n"
                                    "RECURRENCE-ID;TZID=Europe/Berlin:20261111T093000\r\n"
                                    "DTSTART;TZID=Europe/Berlin:20261111T120000\r\nDTEND;TZID=Europe/Berlin:20261111T121500\r\n"
                                    "SUMMARY:Stand-up (moved)\r\nEND:VEVENT\r\n"
                                    "BEGIN:VEVENT\r\nUID:daily-1\r\nDTSTAMP:20261101T120000Z\r\n"
                                    "RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20261105T093000\r\n"
                                    "DTSTART;TZID=Europe/Berlin:20261105T100000\r\nDTEND;TZID=Europe/Berlin:20261105T101500\r\n"
                                    "SUMMARY:Stand-up\r\nEND:VEVENT\r\n");
  auto object = parseCalendar(text);
  REQUIRE(object);
  const auto parts = occurrencesByPart(object->events, sys_days(2026y / 10 / 1), sys_days(2026y / 12 / 31));
  CHECK(parts.at("") == std::vector<std::string>{"2026-11-02T09:30:00/09:45:00", "2026-11-03T09:30:00/09:45:00",
                                                 "2026-11-04T09:30:00/09:45:00"});
  CHECK(parts.at("#from=2026-11-05T08:30:00Z") ==
        std::vector<std::string>{"2026-11-05T10:00:00/10:15:00", "2026-11-06T10:00:00/10:15:00",
                                 "2026-11-07T10:00:00/10:15:00", "2026-11-08T10:00:00/10:15:00",
                                 "2026-11-09T10:00:00/10:15:00", "2026-11-11T12:00:00/12:15:00",
                                 "2026-11-12T10:00:00/10:15:00"});
}

TEST_CASE("THISANDPRIOR and two masters are refused with a reason; BUSYSTATUS is read", "[caldav]") {
  auto prior = parseCalendar(calendar(
      "BEGIN:VEVENT\r\nUID:p\r\nDTSTART:20261102T090000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:p\r\nRECURRENCE-ID;RANGE=THISANDPRIOR:20261103T090000Z\r\nDTSTART:20261103T100000Z\r\n"
      "END:VEVENT\r\n"));
  REQUIRE_FALSE(prior);
  CHECK_THAT(prior.error().message, Catch::Contains("THISANDPRIOR"));
  // found by fuzzing: a change from a timed occurrence to a whole day has no shift to apply
  auto mixed = parseCalendar(calendar(
      "BEGIN:VEVENT\r\nUID:m\r\nDTSTART:20261102T090000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:m\r\nRECURRENCE-ID;RANGE=THISANDFUTURE:20261103T090000Z\r\nDTSTART;VALUE=DATE:20261104\r\n"
      "END:VEVENT\r\n"));
  REQUIRE_FALSE(mixed);
  CHECK_THAT(mixed.error().message, Catch::Contains("whole days"));
  auto two = parseCalendar(calendar("BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261102T090000Z\r\nEND:VEVENT\r\n"
                                    "BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20261102T100000Z\r\nEND:VEVENT\r\n"));
  REQUIRE_FALSE(two);
  CHECK_THAT(two.error().message, Catch::Contains("more than one UID"));

  // a THISANDFUTURE change after the series' end (a stale override) splits nothing and stretches nothing
  auto stale = parseCalendar(calendar(
      "BEGIN:VEVENT\r\nUID:s\r\nDTSTART:20261102T090000Z\r\nDTEND:20261102T100000Z\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n"
      "END:VEVENT\r\nBEGIN:VEVENT\r\nUID:s\r\nRECURRENCE-ID;RANGE=THISANDFUTURE:20261228T090000Z\r\n"
      "DTSTART:20261228T110000Z\r\nDTEND:20261228T120000Z\r\nEND:VEVENT\r\n"));
  REQUIRE(stale);
  CHECK(stale->events.front().recurrence == std::vector<std::string>{"RRULE:FREQ=WEEKLY;COUNT=3"});
  CHECK(std::all_of(stale->events.begin(), stale->events.end(), [](const model::Event& e) { return e.id.empty(); }));

  // a client that knows only TRANSP marked an Outlook event free: TRANSPARENT wins over a stale BUSY
  auto freed = parseCalendar(calendar("BEGIN:VEVENT\r\nUID:f\r\nDTSTART:20261102T090000Z\r\nTRANSP:TRANSPARENT\r\n"
                                      "X-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\nEND:VEVENT\r\n"));
  REQUIRE(freed);
  CHECK(freed->events.front().showAs == model::ShowAs::Free);

  // Outlook over CalDAV: out of office is OPAQUE plus its own property.
  for (const auto& [value, expected] : std::vector<std::pair<std::string, model::ShowAs>>{
           {"OOF", model::ShowAs::OutOfOffice}, {"TENTATIVE", model::ShowAs::Tentative},
           {"WORKINGELSEWHERE", model::ShowAs::WorkingElsewhere}, {"FREE", model::ShowAs::Free},
           {"busy", model::ShowAs::Busy}, {"SOMETHING", model::ShowAs::Busy}}) {
    auto e = parseCalendar(calendar("BEGIN:VEVENT\r\nUID:o\r\nDTSTART:20261102T090000Z\r\nTRANSP:OPAQUE\r\n"
                                    "X-MICROSOFT-CDO-BUSYSTATUS:" + value + "\r\nEND:VEVENT\r\n"));
    REQUIRE(e);
    INFO(value);
    CHECK(e->events.front().showAs == expected);
  }
  model::Event oof;
  oof.uid = "x";
  oof.start = model::ZonedTime{sys_days(2026y / 11 / 2) + hours(9), "UTC"};
  oof.end = model::ZonedTime{sys_days(2026y / 11 / 2) + hours(10), "UTC"};
  oof.showAs = model::ShowAs::OutOfOffice;
  auto written = calendarText(oof, sys_days(2026y / 11 / 1));
  REQUIRE(written);
  CHECK_THAT(*written, Catch::Contains("TRANSP:OPAQUE") && Catch::Contains("X-MICROSOFT-CDO-BUSYSTATUS:OOF"));
  auto back = parseCalendar(*written);
  REQUIRE(back);
  CHECK(back->events.front().showAs == model::ShowAs::OutOfOffice);
}
