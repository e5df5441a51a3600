// Zone names that are not IANA names: Windows names through ICU's CLDR mapping, and zones given by
// their rules matched to an IANA zone with the same offsets.
#include "calgate/model/event.hpp"
#include "calgate/model/zone_names.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <thread>

using namespace calgate::model;
using namespace std::chrono;

namespace {

seconds offsetIn(std::string_view zone, sys_seconds t) {
  return localTimeOf(ZonedTime{t, std::string(zone)}).time_since_epoch() - t.time_since_epoch();
}

std::function<seconds(sys_seconds)> offsetsOf(std::string zone) {
  return [zone = std::move(zone)](sys_seconds t) { return offsetIn(zone, t); };
}

// EU-style rules (last Sunday of March and October, at 01:00 UTC) around any standard offset.
std::function<seconds(sys_seconds)> euRules(seconds standard, seconds changeUtc = hours(1)) {
  return [standard, changeUtc](sys_seconds t) {
    const year y = year_month_day(floor<days>(t)).year();
    const sys_seconds start = sys_days(y / March / Sunday[last]) + changeUtc;
    const sys_seconds end = sys_days(y / October / Sunday[last]) + changeUtc;
    return t >= start && t < end ? standard + hours(1) : standard;
  };
}

const sys_seconds k2026 = sys_days(2026y / January / 1);
const sys_seconds k2028 = sys_days(2028y / January / 1);

// Every day at 00:00 and 12:00 UTC, and both sides of every change of `zone`, agree.
void requireSameOffsets(const std::string& zone, const std::function<seconds(sys_seconds)>& expected, sys_seconds from,
                        sys_seconds to) {
  for (sys_seconds t = from; t < to; t += hours(12)) {
    INFO(zone << " at " << formatUtc(t));
    REQUIRE(offsetIn(zone, t) == expected(t));
    if (expected(t) != expected(t + hours(12))) {  // bisect the change, then look at both sides
      sys_seconds lo = t;
      sys_seconds hi = t + hours(12);
      while (hi - lo > seconds(1)) {
        const sys_seconds mid = lo + (hi - lo) / 2;
        (expected(mid) == expected(lo) ? lo : hi) = mid;
      }
      REQUIRE(offsetIn(zone, lo) == expected(lo));
      REQUIRE(offsetIn(zone, hi) == expected(hi));
    }
  }
}

}  // namespace

TEST_CASE("ianaFromWindows maps Windows names to their CLDR golden zones", "[zones]") {
  CHECK(ianaFromWindows("W. Europe Standard Time") == "Europe/Berlin");
  CHECK(ianaFromWindows("Pacific Standard Time") == "America/Los_Angeles");
  CHECK(ianaFromWindows("Eastern Standard Time") == "America/New_York");
  CHECK(ianaFromWindows("GMT Standard Time") == "Europe/London");
  CHECK(ianaFromWindows("Romance Standard Time") == "Europe/Paris");
  CHECK(ianaFromWindows("UTC") == "Etc/UTC");
  CHECK(ianaFromWindows("UTC-11") == "Etc/GMT+11");
  // CLDR keeps old names (Asia/Calcutta, Asia/Katmandu, Europe/Kiev): the tz database's are given.
  CHECK(ianaFromWindows("India Standard Time") == "Asia/Kolkata");
  CHECK(ianaFromWindows("Nepal Standard Time") == "Asia/Kathmandu");
  CHECK(ianaFromWindows("FLE Standard Time") == "Europe/Kyiv");
  for (const char* windows : {"W. Europe Standard Time", "India Standard Time", "Tokyo Standard Time"}) {
    INFO(windows);
    REQUIRE(ianaFromWindows(windows));
    CHECK(isKnownZone(*ianaFromWindows(windows)));
  }
}

TEST_CASE("ianaFromWindows refuses what is no Windows name", "[zones]") {
  CHECK_FALSE(ianaFromWindows("Mars Standard Time"));
  CHECK_FALSE(ianaFromWindows("Customized Time Zone"));
  CHECK_FALSE(ianaFromWindows("Europe/Berlin"));  // an IANA name is no Windows name
  CHECK_FALSE(ianaFromWindows(""));
  CHECK_FALSE(ianaFromWindows("w. europe standard time"));  // names are exact, as Windows writes them
  CHECK_FALSE(ianaFromWindows(std::string(129, 'A')));
  CHECK_FALSE(ianaFromWindows(std::string("W. Europe Standard Time\0", 24)));
  CHECK_FALSE(ianaFromWindows("W. Europe Standard Time\xc3\xa9"));
  CHECK_FALSE(ianaFromWindows("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"));  // out of scope
}

TEST_CASE("windowsFromIana maps zones and links, and round-trips with ianaFromWindows", "[zones]") {
  CHECK(windowsFromIana("Europe/Berlin") == "W. Europe Standard Time");
  CHECK(windowsFromIana("Europe/Amsterdam") == "W. Europe Standard Time");
  CHECK(windowsFromIana("Asia/Calcutta") == "India Standard Time");
  CHECK(windowsFromIana("Asia/Kolkata") == "India Standard Time");
  CHECK(windowsFromIana("US/Pacific") == "Pacific Standard Time");
  CHECK(windowsFromIana("Europe/Kyiv") == "FLE Standard Time");
  CHECK(windowsFromIana("Etc/UTC") == "UTC");
  CHECK(windowsFromIana("UTC") == "UTC");
  CHECK_FALSE(windowsFromIana("CET"));  // no Windows zone is CET
  CHECK_FALSE(windowsFromIana("Not/A_Zone"));
  CHECK_FALSE(windowsFromIana(""));
  CHECK_FALSE(windowsFromIana(std::string(200, 'x')));

  for (const char* windows : {"W. Europe Standard Time", "Pacific Standard Time", "India Standard Time", "UTC",
                              "Nepal Standard Time", "FLE Standard Time", "AUS Eastern Standard Time",
                              "Tokyo Standard Time", "E. South America Standard Time", "Dateline Standard Time"}) {
    INFO(windows);
    const auto iana = ianaFromWindows(windows);
    REQUIRE(iana);
    CHECK(windowsFromIana(*iana) == windows);
  }
  for (const char* iana : {"Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata", "Asia/Tokyo", "Etc/UTC"}) {
    INFO(iana);
    const auto windows = windowsFromIana(iana);
    REQUIRE(windows);
    CHECK(ianaFromWindows(*windows) == iana);
  }
}

TEST_CASE("ianaMatching finds a zone with the same offsets as a real one", "[zones]") {
  SECTION("preferred honoured when it matches") {
    CHECK(ianaMatching(offsetsOf("Europe/Berlin"), k2026, k2028, "Europe/Berlin") == "Europe/Berlin");
    CHECK(ianaMatching(offsetsOf("Europe/Berlin"), k2026, k2028, "Europe/Paris") == "Europe/Paris");
    // A link is answered by its zone.
    CHECK(ianaMatching(offsetsOf("Asia/Kolkata"), k2026, k2028, "Asia/Calcutta") == "Asia/Kolkata");
  }
  SECTION("without (or against) preferred: CLDR's zones first, the longest-kept rules, then the name") {
    const auto match = ianaMatching(offsetsOf("Europe/Berlin"), k2026, k2028);
    REQUIRE(match);
    // CLDR's zones for the EU's CET rules (Berlin, Budapest, Paris, Warsaw) all kept them since
    // 1996: the first by name
    CHECK(*match == "Europe/Berlin");
    requireSameOffsets(*match, offsetsOf("Europe/Berlin"), k2026, k2028);
    CHECK(ianaMatching(offsetsOf("Europe/Berlin"), k2026, k2028, "America/New_York") == "Europe/Berlin");
    CHECK(ianaMatching(offsetsOf("Europe/Berlin"), k2026, k2028, "Not/A_Zone") == "Europe/Berlin");
    // +05:30: Kolkata has kept it for decades, Colombo only since 2006 (and links are no candidates)
    CHECK(ianaMatching(offsetsOf("Asia/Kolkata"), k2026, k2028) == "Asia/Kolkata");
    // US Eastern rules: New York (since 2007), not Grand Turk (on them since 2018), not Detroit
    // (no CLDR zone of a Windows zone)
    CHECK(ianaMatching(offsetsOf("America/New_York"), k2026, k2028) == "America/New_York");
    // UTC is "UTC", not a place that keeps it ("Africa/Abidjan", "Africa/Sao_Tome")
    CHECK(ianaMatching(offsetsOf("Etc/UTC"), k2026, k2028) == "UTC");
    CHECK(ianaMatching(offsetsOf("Etc/UTC"), k2026, k2028, "UTC") == "Etc/UTC");  // "UTC" is a link
  }
  SECTION("a window across several DST changes") {
    const sys_seconds from = sys_days(2025y / June / 1);
    const sys_seconds to = sys_days(2030y / June / 1);  // 10 changes
    const auto match = ianaMatching(offsetsOf("America/New_York"), from, to);
    REQUIRE(match);
    CHECK(match->starts_with("America/"));
    requireSameOffsets(*match, offsetsOf("America/New_York"), from, to);
    CHECK(ianaMatching(offsetsOf("America/New_York"), from, to, "America/New_York") == "America/New_York");
    const auto sydney = ianaMatching(offsetsOf("Australia/Sydney"), from, to);
    REQUIRE(sydney);
    requireSameOffsets(*sydney, offsetsOf("Australia/Sydney"), from, to);
  }
}

TEST_CASE("ianaMatching with rules of its own", "[zones]") {
  SECTION("a fixed odd offset") {
    const auto kathmandu = [](sys_seconds) -> seconds { return hours(5) + minutes(45); };
    CHECK(ianaMatching(kathmandu, k2026, k2028) == "Asia/Kathmandu");
    const auto chatham = ianaMatching(offsetsOf("Pacific/Chatham"), k2026, k2028);
    CHECK(chatham == "Pacific/Chatham");
  }
  SECTION("EU rules written out match") {
    CHECK(ianaMatching(euRules(hours(1)), k2026, k2028, "Europe/Berlin") == "Europe/Berlin");
    CHECK(ianaMatching(euRules(hours(0)), k2026, k2028, "Europe/London") == "Europe/London");
    CHECK(ianaMatching(euRules(hours(2)), k2026, k2028, "Europe/Athens") == "Europe/Athens");
  }
  SECTION("rules no IANA zone has") {
    CHECK_FALSE(ianaMatching(euRules(hours(1) + minutes(30)), k2026, k2028));
    // CET, changing an hour late (02:00 UTC): found to the second, matching nothing.
    CHECK_FALSE(ianaMatching(euRules(hours(1), hours(2)), k2026, k2028, "Europe/Berlin"));
    // Berlin but for one week of 2027.
    const auto berlin = offsetsOf("Europe/Berlin");
    const sys_seconds oddFrom = sys_days(2027y / March / 21);
    const auto odd = [&](sys_seconds t) { return t >= oddFrom && t < oddFrom + days(7) ? hours(2) : berlin(t); };
    CHECK_FALSE(ianaMatching(odd, k2026, k2028, "Europe/Berlin"));
  }
  SECTION("a change on the window's last, partial day is seen") {
    const sys_seconds day = sys_days(2026y / March / 29);  // CEST from 01:00 UTC
    CHECK(ianaMatching(offsetsOf("Europe/Berlin"), k2026, day + minutes(90), "Europe/Berlin") == "Europe/Berlin");
    CHECK(ianaMatching(euRules(hours(1), hours(2)), k2026, day + minutes(30), "Europe/Berlin") == "Europe/Berlin");
    // Still +01:00 at 01:00 UTC: not Berlin any more, only a zone without DST ("Africa/Lagos", CLDR's zone for W. Central Africa).
    CHECK(ianaMatching(euRules(hours(1), hours(2)), k2026, day + minutes(90), "Europe/Berlin") == "Africa/Lagos");
    CHECK_FALSE(ianaMatching(euRules(hours(1), hours(2)), k2026, day + minutes(150), "Europe/Berlin"));
  }
  SECTION("windows: empty, reversed, short, long") {
    const auto berlin = offsetsOf("Europe/Berlin");
    CHECK_FALSE(ianaMatching(berlin, k2026, k2026));
    CHECK_FALSE(ianaMatching(berlin, k2028, k2026));
    CHECK_FALSE(ianaMatching(berlin, sys_seconds::min(), k2026));
    CHECK_FALSE(ianaMatching(berlin, k2026, sys_seconds::max()));
    CHECK(ianaMatching(berlin, k2026, k2026 + seconds(1), "Europe/Berlin") == "Europe/Berlin");
    CHECK(ianaMatching(berlin, k2026, k2026 + hours(5), "Europe/Berlin") == "Europe/Berlin");
    // 30 years asked, 5 checked.
    CHECK(ianaMatching(berlin, k2026, sys_days(2056y / January / 1), "Europe/Berlin") == "Europe/Berlin");
  }
  SECTION("a broken offset function") {
    CHECK_FALSE(ianaMatching({}, k2026, k2028));
    CHECK_FALSE(ianaMatching([](sys_seconds) -> seconds { throw std::runtime_error("no"); }, k2026, k2028));
    CHECK_FALSE(ianaMatching([](sys_seconds) -> seconds { return hours(24); }, k2026, k2028));
    // Flipping every few minutes: more changes a day than any zone has.
    CHECK_FALSE(ianaMatching([](sys_seconds t) -> seconds { return hours(t.time_since_epoch().count() / 600 % 2); },
                             k2026, k2028));
  }
}

TEST_CASE("ianaMatching answers alike when repeated and from several threads", "[zones]") {
  const auto first = ianaMatching(offsetsOf("America/Chicago"), k2026, k2028);
  REQUIRE(first);
  CHECK(ianaMatching(offsetsOf("America/Chicago"), k2026, k2028) == first);  // cached
  CHECK(ianaMatching(offsetsOf("America/Chicago"), k2026, k2028, "America/Chicago") == "America/Chicago");

  std::atomic<int> agreeing{0};
  std::vector<std::thread> threads;
  const char* zones[] = {"America/Chicago", "Europe/Berlin", "Asia/Tokyo", "Australia/Adelaide"};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, zone = zones[i % 4]] {
      const auto match = ianaMatching(offsetsOf(zone), k2026, k2028, zone);
      if (match == zone) ++agreeing;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(agreeing == 8);
}
