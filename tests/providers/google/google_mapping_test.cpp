// The Google rows of the product pages' mapping tables (../shared/seeds) and the events.insert body.
#include "calgate/model/event.hpp"
#include "calgate/providers/google/mapping.hpp"
#include "support/sample_event.hpp"

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

using calgate::test::sampleEvent;

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
  CHECK(j["extendedProperties"]["private"]["calgateUid"] == sampleEvent().uid);
  Event allDay = sampleEvent();
  allDay.start = Date{2026y / 12 / 24};
  allDay.end = Date{2026y / 12 / 27};
  j = nlohmann::json::parse(*gg::eventBody(allDay));
  CHECK(j["start"] == nlohmann::json{{"date", "2026-12-24"}});
  CHECK(j["end"] == nlohmann::json{{"date", "2026-12-27"}});
}

