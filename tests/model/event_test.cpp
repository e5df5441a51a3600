// Time helpers of the event model.
#include "calgate/model/event.hpp"

#include <catch2/catch.hpp>

using namespace calgate::model;
using namespace std::chrono;

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


TEST_CASE("provider kinds are printed and parsed by one function pair; anything else is an error",
          "[model][provider]") {
  for (const auto kind : kProviderKinds) {
    INFO(toString(kind));
    CHECK(parseProviderKind(toString(kind)) == kind);
  }
  CHECK(toString(ProviderKind::Google) == "google");
  CHECK(toString(ProviderKind::Microsoft) == "microsoft");
  CHECK(toString(ProviderKind::CalDav) == "caldav");
  for (const std::string bad : {"", "CalDAV", "Google", " caldav", "caldav ", "icloud", "exchange"}) {
    INFO(bad);
    auto parsed = parseProviderKind(bad);
    REQUIRE_FALSE(parsed);  // never a default
    CHECK(parsed.error().code == calgate::core::ErrorCode::Invalid);
    CHECK_THAT(parsed.error().message, Catch::Contains("caldav, google, microsoft"));
  }
  CHECK(providerKindList() == "caldav, google, microsoft");
}
