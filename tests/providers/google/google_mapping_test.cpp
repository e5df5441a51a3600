// The Google rows of the product pages' mapping tables (../shared/seeds) and the events.insert body.
#include "calgate/model/event.hpp"
#include "calgate/providers/google/mapping.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace calgate::model;
using namespace std::chrono;
namespace gg = calgate::providers::google;

TEST_CASE("Google: visibility is preserved, confidential is never downgraded (seed table)", "[providers][seed]") {
  for (const std::string v : {"default", "public", "private", "confidential"}) {
    INFO(v);
    CHECK(gg::visibilityFor(gg::sensitivityFromVisibility(v)) == v);
  }
  CHECK(gg::sensitivityFromVisibility("") == Sensitivity::Default);
  CHECK(gg::sensitivityFromVisibility("whatever") == Sensitivity::Private);
}

TEST_CASE("status vocabularies", "[providers]") {
  for (const std::string s : {"confirmed", "tentative", "cancelled"}) CHECK(gg::statusFor(gg::statusFrom(s)) == s);
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

