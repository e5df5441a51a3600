// Google as a target under crashes and faults: a crash at every write boundary loses nothing and
// duplicates nothing; a chaos run (random edits on both sides of a two-way pair, 10 % injected
// 403/429/500) converges with no duplicates and no echo writes, and leaves no event text in the
// database. Needs the caldav service fixture and node.
#include "sync/chaos.hpp"
#include "sync/google_pair.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace calgate;
using namespace calgate::sync;
using namespace std::chrono;
using calgate::test::Dav;
using calgate::test::EnginePair;
using calgate::test::GoogleFake;
using calgate::test::GoogleSide;
using calgate::test::vevent;
using From = calgate::test::GoogleAndRadicale::From;
using nlohmann::json;

namespace {


std::string berlin(int day, int hour) {
  char buf[40];
  std::snprintf(buf, sizeof buf, ";TZID=Europe/Berlin:202612%02dT%02d0000", day, hour);
  return buf;
}

/// What a calendar shows in Google: "<summary>@<start>" of every live master, single and exception.
std::multiset<std::string> shown(GoogleSide& g) {
  std::multiset<std::string> out;
  for (const auto& e : g.live()) out.insert(e.value("summary", "") + "@" + e["start"].value("dateTime", e["start"].value("date", "")));
  return out;
}

/// A Radicale -> Google pair in two phases (initial sync, then changes), a crash at the `failAt`th
/// hit of `point` in either phase, and a restart that syncs again. Returns whether it crashed and
/// what Google shows at the end.
std::pair<bool, std::multiset<std::string>> crashScenario(const std::string& point, int failAt) {
  calgate::test::GoogleAndRadicale t(From::Radicale, Direction::OneWay, "crash-src");
  auto& [fake, g, dav, src, p] = t;
  bool fired = false;
  const SyncOptions crashing = calgate::test::crashingAt(point, failAt, fired);
  auto runWithRestart = [&] {
    p.restart(crashing);
    auto r = p.f.engine->syncPair(p.pairId, *dav.provider, *g.provider);
    if (!r) {  // the process died here; a new one starts from what the database and Google hold
      p.restart(SyncOptions{});
      p.sync(*dav.provider, *g.provider);
    }
  };
  const std::string series = vevent("series", "Series", berlin(1, 9), berlin(1, 10), "RRULE:FREQ=DAILY;COUNT=10\r\n");
  const std::string moved = vevent("series", "Series (moved)", berlin(3, 11), berlin(3, 12), "RECURRENCE-ID" + berlin(3, 9) + "\r\n");
  dav.put(src, "series", series + moved);
  dav.put(src, "a", vevent("a", "A", berlin(2, 9), berlin(2, 10)));
  const std::string b = dav.put(src, "b", vevent("b", "B", berlin(2, 11), berlin(2, 12)));
  dav.put(src, "c", vevent("c", "C", berlin(2, 13), berlin(2, 14)));
  runWithRestart();
  dav.put(src, "a", vevent("a", "A2", berlin(2, 15), berlin(2, 16)));
  dav.remove(b);
  dav.put(src, "d", vevent("d", "D", berlin(4, 9), berlin(4, 10)));
  dav.put(src, "series", vevent("series", "Series", berlin(1, 9), berlin(1, 10),
                                "RRULE:FREQ=DAILY;COUNT=10\r\nEXDATE" + berlin(5, 9) + "\r\n") + moved);
  runWithRestart();
  CHECK(p.sync(*dav.provider, *g.provider).writes() == 0);
  return {fired, shown(g)};
}

/// A Radicale -> Google pair into a Workspace user's primary calendar (status events on): "a" busy
/// and "b" out of office, then both switch. Every switch replaces the copy (Google cannot change an
/// event's type); a crash at the `failAt`th hit of `point` is followed by a restart. Returns
/// whether it crashed and "<summary>@<start>#<eventType>" of what Google shows at the end.
std::pair<bool, std::multiset<std::string>> outOfOfficeScenario(const std::string& point, int failAt) {
  calgate::test::GoogleAndRadicale t(From::Radicale, Direction::OneWay, "oof-src");
  auto& [fake, g, dav, src, p] = t;
  providers::google::GoogleOptions o;
  o.statusEvents = true;
  o.sleep = [](milliseconds) {};
  g.provider = std::make_unique<providers::google::GoogleProvider>(g.http, g.tokens, core::systemClock(),
                                                                   providers::google::GoogleEndpoints{fake.url}, o);
  bool fired = false;
  const SyncOptions crashing = calgate::test::crashingAt(point, failAt, fired);
  auto runWithRestart = [&] {
    p.restart(crashing);
    if (!p.f.engine->syncPair(p.pairId, *dav.provider, *g.provider)) {
      p.restart(SyncOptions{});
      p.sync(*dav.provider, *g.provider);
    }
  };
  const std::string away = "X-MICROSOFT-CDO-BUSYSTATUS:OOF\r\n";
  dav.put(src, "a", vevent("a", "A", berlin(2, 9), berlin(2, 10)));
  dav.put(src, "b", vevent("b", "B", berlin(3, 9), berlin(3, 17), away));
  runWithRestart();
  dav.put(src, "a", vevent("a", "A", berlin(2, 9), berlin(2, 10), away));
  dav.put(src, "b", vevent("b", "B", berlin(3, 9), berlin(3, 17)));
  runWithRestart();
  CHECK(p.sync(*dav.provider, *g.provider).writes() == 0);
  std::multiset<std::string> out;
  for (const auto& e : g.live()) {
    out.insert(e.value("summary", "") + "@" + e["start"].value("dateTime", "") + "#" + e.value("eventType", "default"));
  }
  return {fired, out};
}

}  // namespace

TEST_CASE("out of office into Google: a copy that switches type is replaced; a crash at any write boundary duplicates nothing",
          "[sync][google][crash][status]") {
  const auto [none, expected] = outOfOfficeScenario("none", 1);
  CHECK(expected == std::multiset<std::string>{"A@2026-12-02T09:00:00+01:00#outOfOffice", "B@2026-12-03T09:00:00+01:00#default"});
  calgate::test::crashAtEveryWriteBoundary(outOfOfficeScenario, 2);
}

TEST_CASE("Google as target: a crash at any write boundary loses no change and duplicates nothing", "[sync][google][crash]") {
  calgate::test::crashAtEveryWriteBoundary(crashScenario, 5);  // Series, Series (moved), A2, C, D
}

TEST_CASE("chaos: random edits on both sides of Google <-> Radicale with 10 % injected faults converge, no duplicates, no echo",
          "[sync][google][chaos]") {
  calgate::test::GoogleAndRadicale t(From::Google, Direction::TwoWay, "chaos", {}, {{"seed", "11"}});
  auto& [fake, g, dav, cal, p] = t;
  calgate::test::ChaosSide side{
      *g.provider, [&](const json& rules) { fake.faults(rules); },
      [&](const std::string& title, int day, int hour) -> std::string {
        char start[32], end[32];
        std::snprintf(start, sizeof start, "2026-12-%02dT%02d:00:00Z", day, hour);
        std::snprintf(end, sizeof end, "2026-12-%02dT%02d:30:00Z", day, hour);
        return g.create({{"summary", title}, {"start", {{"dateTime", start}}}, {"end", {{"dateTime", end}}}})["id"];
      },
      [&](const std::string& id, const std::string& title) { g.edit(id, {{"summary", title}}); },
      [&](const std::string& id) { g.remove(id); },
      [&] {
        std::multiset<std::string> out;
        for (const auto& e : g.live()) out.insert(e.value("summary", ""));
        return out;
      },
      [&] {
        const auto requests = fake.state()["requests"];
        return static_cast<std::size_t>(std::count_if(requests.begin(), requests.end(), [](const json& r) {
          return r["status"] == 403 || r["status"] == 429 || r["status"] == 500;
        }));
      }};
  calgate::test::chaosRun(side, json::array({{{"status", 403}, {"rate", 0.04}}, {{"status", 429}, {"rate", 0.03}}, {{"status", 500}, {"rate", 0.03}}}),
                          dav, cal, p);
}
