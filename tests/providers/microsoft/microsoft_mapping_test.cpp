// The Microsoft 365 rows of the product pages' mapping tables (../shared/seeds) and the Graph event body.
#include "calgate/model/event.hpp"
#include "calgate/providers/google/mapping.hpp"
#include "calgate/providers/microsoft/mapping.hpp"
#include "support/sample_event.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace calgate::model;
using namespace std::chrono;
namespace ms = calgate::providers::microsoft;
namespace gg = calgate::providers::google;

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

using calgate::test::sampleEvent;

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

