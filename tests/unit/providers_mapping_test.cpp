// Every row of the product pages' mapping tables (../shared/seeds), per provider.
#include "calgate/providers/caldav/ical_mapping.hpp"
#include "calgate/providers/event.hpp"
#include "calgate/providers/google/mapping.hpp"
#include "calgate/providers/microsoft/mapping.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace calgate::providers;
using namespace std::chrono;
namespace ms = calgate::providers::microsoft;
namespace gg = calgate::providers::google;
namespace ic = calgate::providers::caldav;

TEST_CASE("Microsoft 365: source sensitivity is preserved through sync (seed table)", "[providers][seed]") {
  // normal -> normal, personal -> private, private -> private, confidential -> confidential
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"normal", "normal"}, {"personal", "private"}, {"private", "private"}, {"confidential", "confidential"}};
  for (const auto& [source, target] : rows) {
    INFO(source);
    CHECK(ms::sensitivityFor(ms::sensitivityFrom(source)) == target);
  }
  CHECK(ms::sensitivityFrom("") == Sensitivity::Normal);
  CHECK(ms::sensitivityFrom("secret-ish") == Sensitivity::Private);  // unknown: fail safe
}

TEST_CASE("Google: visibility is preserved, confidential is never downgraded (seed table)", "[providers][seed]") {
  for (const std::string v : {"default", "public", "private", "confidential"}) {
    INFO(v);
    CHECK(gg::visibilityFor(gg::sensitivityFromVisibility(v)) == v);
  }
  CHECK(gg::sensitivityFromVisibility("") == Sensitivity::Default);
  CHECK(gg::sensitivityFromVisibility("whatever") == Sensitivity::Private);
}

TEST_CASE("iCloud: CLASS is preserved; omitted means PUBLIC (seed table)", "[providers][seed]") {
  CHECK(ic::classFor(ic::sensitivityFromClass(std::nullopt)) == "PUBLIC");
  CHECK(ic::classFor(ic::sensitivityFromClass("PUBLIC")) == "PUBLIC");
  CHECK(ic::classFor(ic::sensitivityFromClass("PRIVATE")) == "PRIVATE");
  CHECK(ic::classFor(ic::sensitivityFromClass("CONFIDENTIAL")) == "CONFIDENTIAL");
  CHECK(ic::classFor(ic::sensitivityFromClass("private")) == "PRIVATE");  // case-insensitive
  // RFC 5545 3.8.1.3: unrecognised classes are treated as PRIVATE
  CHECK(ic::sensitivityFromClass("X-SECRET") == Sensitivity::Private);
}

TEST_CASE("sensitivity across providers never loosens", "[providers]") {
  struct Row {
    std::string graph, google, ical;
  };
  // Graph source -> Google and iCal targets
  const std::vector<Row> fromGraph = {{"normal", "default", "PUBLIC"},
                                      {"personal", "private", "PRIVATE"},
                                      {"private", "private", "PRIVATE"},
                                      {"confidential", "confidential", "CONFIDENTIAL"}};
  for (const auto& r : fromGraph) {
    const auto s = ms::sensitivityFrom(r.graph);
    CHECK(gg::visibilityFor(s) == r.google);
    CHECK(ic::classFor(s) == r.ical);
  }
  // Google source -> Graph and iCal targets
  const std::vector<Row> fromGoogle = {{"normal", "default", "PUBLIC"},
                                       {"normal", "public", "PUBLIC"},
                                       {"private", "private", "PRIVATE"},
                                       {"confidential", "confidential", "CONFIDENTIAL"}};
  for (const auto& r : fromGoogle) {
    const auto s = gg::sensitivityFromVisibility(r.google);
    CHECK(ms::sensitivityFor(s) == r.graph);
    CHECK(ic::classFor(s) == r.ical);
  }
  // iCal source -> Graph and Google targets
  CHECK(ms::sensitivityFor(ic::sensitivityFromClass("CONFIDENTIAL")) == "confidential");
  CHECK(gg::visibilityFor(ic::sensitivityFromClass("PRIVATE")) == "private");
  CHECK(gg::visibilityFor(ic::sensitivityFromClass(std::nullopt)) == "public");
}

TEST_CASE("free/busy: Graph showAs (five values) <-> Google transparency <-> iCal TRANSP", "[providers][seed]") {
  struct Row {
    std::string showAs, transparency, transp;
  };
  const std::vector<Row> rows = {{"free", "transparent", "TRANSPARENT"},
                                 {"tentative", "opaque", "OPAQUE"},
                                 {"busy", "opaque", "OPAQUE"},
                                 {"oof", "opaque", "OPAQUE"},
                                 {"workingElsewhere", "opaque", "OPAQUE"}};
  for (const auto& r : rows) {
    INFO(r.showAs);
    const ShowAs s = ms::showAsFrom(r.showAs);
    CHECK(ms::showAsFor(s) == r.showAs);  // Graph -> Graph keeps all five
    CHECK(gg::transparencyFor(s) == r.transparency);
    CHECK(ic::transpFor(s) == r.transp);
  }
  CHECK(ms::showAsFor(gg::showAsFromTransparency("transparent")) == "free");
  CHECK(ms::showAsFor(gg::showAsFromTransparency("opaque")) == "busy");
  CHECK(ms::showAsFor(gg::showAsFromTransparency("")) == "busy");
  CHECK(ms::showAsFor(ic::showAsFromTransp("TRANSPARENT")) == "free");
  CHECK(ms::showAsFor(ic::showAsFromTransp(std::nullopt)) == "busy");
  CHECK(gg::transparencyFor(ic::showAsFromTransp("TRANSPARENT")) == "transparent");
  CHECK(ic::transpFor(gg::showAsFromTransparency("transparent")) == "TRANSPARENT");
  CHECK(ms::showAsFrom("unknown") == ShowAs::Busy);
}

TEST_CASE("status vocabularies", "[providers]") {
  for (const std::string s : {"confirmed", "tentative", "cancelled"}) CHECK(gg::statusFor(gg::statusFrom(s)) == s);
  for (const std::string s : {"CONFIRMED", "TENTATIVE", "CANCELLED"}) CHECK(ic::statusFor(ic::statusFrom(s)) == s);
  CHECK(ic::statusFrom(std::nullopt) == Status::Confirmed);
}

TEST_CASE("wall-clock times in a zone follow RFC 5545 across DST changes", "[providers][time]") {
  // Europe/Berlin, 2026-03-29: 02:00 -> 03:00 (gap); 2026-10-25: 03:00 -> 02:00 (overlap)
  const auto gap = zonedFromLocal(local_days{2026y / March / 29} + 2h + 30min, "Europe/Berlin");
  REQUIRE(gap);
  CHECK(formatUtc(gap->instant) == "2026-03-29T01:30:00Z");  // offset before the gap (+01:00)
  const auto overlap = zonedFromLocal(local_days{2026y / October / 25} + 2h + 30min, "Europe/Berlin");
  REQUIRE(overlap);
  CHECK(formatUtc(overlap->instant) == "2026-10-25T00:30:00Z");  // first occurrence (+02:00)
  const auto winter = zonedFromLocal(local_days{2026y / November / 21} + 10h, "America/New_York");
  REQUIRE(winter);
  CHECK(formatUtc(winter->instant) == "2026-11-21T15:00:00Z");
  CHECK(formatLocal(localTimeOf(*winter)) == "2026-11-21T10:00:00");
  CHECK_FALSE(zonedFromLocal(local_days{2026y / 1 / 1}, "Mars/Olympus_Mons"));
}

namespace {

Event sampleEvent() {
  Event e;
  e.uid = "calgate-0123";
  e.title = "Planning";
  e.description = "Agenda";
  e.location = "Room 4";
  e.start = *zonedFromLocal(local_days{2026y / November / 23} + 9h, "Europe/Berlin");
  e.end = *zonedFromLocal(local_days{2026y / November / 23} + 10h, "Europe/Berlin");
  e.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=5", "EXDATE;TZID=Europe/Berlin:20261130T090000"};
  e.sensitivity = Sensitivity::Confidential;
  e.showAs = ShowAs::OutOfOffice;
  e.attendees = {"a@example.com"};
  e.sequence = 2;
  e.origin = Origin{"pr_1", "src_1"};
  return e;
}

}  // namespace

TEST_CASE("Google event body carries the synced fields in Google's shapes", "[providers][google]") {
  auto body = gg::eventBody(sampleEvent());
  REQUIRE(body);
  auto j = nlohmann::json::parse(*body);
  CHECK(j["summary"] == "Planning");
  CHECK(j["start"] == nlohmann::json{{"dateTime", "2026-11-23T09:00:00"}, {"timeZone", "Europe/Berlin"}});
  CHECK(j["recurrence"].size() == 2);
  CHECK(j["visibility"] == "confidential");
  CHECK(j["transparency"] == "opaque");
  CHECK_FALSE(j.contains("attendees"));  // guests would get the event
  CHECK_FALSE(j.contains("iCalUID"));    // a client-chosen id instead, for idempotent inserts
  CHECK_FALSE(j.contains("sequence"));
  CHECK(j["id"] == "calgate0123");
  CHECK(j["extendedProperties"]["private"]["calgatePair"] == "pr_1");
  Event allDay = sampleEvent();
  allDay.start = Date{2026y / 12 / 24};
  allDay.end = Date{2026y / 12 / 27};
  j = nlohmann::json::parse(*gg::eventBody(allDay));
  CHECK(j["start"] == nlohmann::json{{"date", "2026-12-24"}});
  CHECK(j["end"] == nlohmann::json{{"date", "2026-12-27"}});
}

TEST_CASE("Graph event body refuses series and writes wall-clock times", "[providers][microsoft]") {
  CHECK_FALSE(ms::eventBody(sampleEvent()));
  Event single = sampleEvent();
  single.recurrence.clear();
  auto body = ms::eventBody(single);
  REQUIRE(body);
  auto j = nlohmann::json::parse(*body);
  CHECK(j["start"] == nlohmann::json{{"dateTime", "2026-11-23T09:00:00.0000000"}, {"timeZone", "Europe/Berlin"}});
  CHECK(j["isAllDay"] == false);
  CHECK(j["sensitivity"] == "confidential");
  CHECK(j["showAs"] == "oof");
  CHECK(j["singleValueExtendedProperties"][0]["value"] == "pr_1 src_1");
  CHECK_FALSE(j.contains("attendees"));  // invitations would be sent
  Event allDay = single;
  allDay.start = Date{2026y / 12 / 24};
  allDay.end = Date{2026y / 12 / 25};
  j = nlohmann::json::parse(*ms::eventBody(allDay, "Europe/Berlin"));
  CHECK(j["start"] == nlohmann::json{{"dateTime", "2026-12-24T00:00:00.0000000"}, {"timeZone", "Europe/Berlin"}});
  CHECK(j["isAllDay"] == true);
  Event badZone = single;
  std::get<ZonedTime>(badZone.start).zone = "Nowhere/Special";
  CHECK_FALSE(ms::eventBody(badZone));
  CHECK_FALSE(gg::eventBody(badZone));
}

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
