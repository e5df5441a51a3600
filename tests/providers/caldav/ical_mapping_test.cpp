// The iCalendar (iCloud, CalDAV) rows of the product pages' mapping tables (../shared/seeds) and the
// iCalendar text calgate writes.
#include "calgate/model/event.hpp"
#include "calgate/providers/caldav/ical_mapping.hpp"
#include "support/sample_event.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace calgate::model;
using namespace std::chrono;
namespace ic = calgate::providers::caldav;

TEST_CASE("iCloud: CLASS is preserved; omitted means PUBLIC (seed table)", "[providers][seed]") {
  CHECK(ic::classFor(ic::sensitivityFromClass(std::nullopt)) == "PUBLIC");
  CHECK(ic::classFor(ic::sensitivityFromClass("PUBLIC")) == "PUBLIC");
  CHECK(ic::classFor(ic::sensitivityFromClass("PRIVATE")) == "PRIVATE");
  CHECK(ic::classFor(ic::sensitivityFromClass("CONFIDENTIAL")) == "CONFIDENTIAL");
  CHECK(ic::classFor(ic::sensitivityFromClass("private")) == "PRIVATE");  // case-insensitive
  // RFC 5545 3.8.1.3: unrecognised classes are treated as PRIVATE
  CHECK(ic::sensitivityFromClass("X-SECRET") == Sensitivity::Private);
}

TEST_CASE("status vocabularies", "[providers]") {
  for (const std::string s : {"CONFIRMED", "TENTATIVE", "CANCELLED"}) CHECK(ic::statusFor(ic::statusFrom(s)) == s);
  CHECK(ic::statusFrom(std::nullopt) == Status::Confirmed);
}

using calgate::test::sampleEvent;

TEST_CASE("iCalendar text has TZID times with their VTIMEZONE, and the origin marker", "[providers][caldav]") {
  auto text = ic::calendarText(sampleEvent(), sys_days{2026y / November / 21} + 8h);
  REQUIRE(text);
  CHECK_THAT(*text, Catch::Contains("BEGIN:VTIMEZONE") && Catch::Contains("Europe/Berlin"));
  CHECK_THAT(*text, Catch::Contains("\r\nTZID:Europe/Berlin\r\n"));
  CHECK_THAT(*text, Catch::Contains("\r\nDTSTART;TZID=Europe/Berlin:20261123T090000\r\n"));
  CHECK_THAT(*text, Catch::Contains("\r\nDTEND;TZID=Europe/Berlin:20261123T100000\r\n"));
  CHECK_THAT(*text, Catch::Contains("RRULE:FREQ=WEEKLY;COUNT=5"));
  CHECK_THAT(*text, Catch::Contains("EXDATE;TZID=Europe/Berlin:20261130T090000"));
  CHECK_THAT(*text, Catch::Contains("CLASS:CONFIDENTIAL") && Catch::Contains("TRANSP:OPAQUE"));
  CHECK_THAT(*text, Catch::Contains("X-CALGATE-PAIR:pr_1") && Catch::Contains("X-CALGATE-SOURCE:src_1"));
  CHECK_THAT(*text, Catch::Contains("DTSTAMP:20261121T080000Z"));
  CHECK_THAT(*text, Catch::Contains("\r\nSEQUENCE:0\r\n"));
  CHECK_THAT(*ic::calendarText(sampleEvent(), sys_days{2026y / November / 21}, 3), Catch::Contains("\r\nSEQUENCE:3\r\n"));
  Event allDay = sampleEvent();
  allDay.start = Date{2026y / 12 / 24};
  allDay.end = Date{2026y / 12 / 25};
  allDay.recurrence.clear();
  auto day = ic::calendarText(allDay, sys_days{2026y / November / 21});
  REQUIRE(day);
  CHECK_THAT(*day, Catch::Contains("DTSTART;VALUE=DATE:20261224"));
  CHECK_THAT(*day, !Catch::Contains("BEGIN:VTIMEZONE"));
  Event bad = sampleEvent();
  bad.recurrence = {"SUMMARY:sneaky"};
  CHECK_FALSE(ic::calendarText(bad, sys_days{2026y / November / 21}));
}
