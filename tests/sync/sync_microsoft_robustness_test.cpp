// Microsoft 365 as a target under crashes and faults: a crash at every write boundary loses nothing
// and duplicates nothing (a create retried hours later finds the copy by its origin marker); a
// chaos run (random edits on both sides of a two-way pair, 10 % injected 429/503/500 and Graph's
// replays and duplicates) converges with no duplicates and no echo writes, and leaves no event
// text in the database. Needs the caldav service fixture and node.
#include "sync/graph_pair.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <random>
#include <set>
#include <sstream>

using namespace calgate;
using namespace calgate::sync;
using namespace std::chrono;
using calgate::test::GraphSide;
using calgate::test::vevent;
using From = calgate::test::GraphAndRadicale::From;
using nlohmann::json;

namespace {

std::string berlin(int day, int hour) {
  char buf[40];
  std::snprintf(buf, sizeof buf, ";TZID=Europe/Berlin:202612%02dT%02d0000", day, hour);
  return buf;
}

/// What a Graph calendar shows: "<subject>@<start>" of every stored event.
std::multiset<std::string> shown(GraphSide& m) {
  std::multiset<std::string> out;
  for (const auto& e : m.stored()) out.insert(e.value("subject", "") + "@" + e["start"].value("dateTime", ""));
  return out;
}

/// A Radicale -> Microsoft pair in two phases (initial sync, then changes), a crash at the
/// `failAt`th hit of `point` in either phase, and a restart, hours later, that syncs again.
std::pair<bool, std::multiset<std::string>> crashScenario(const std::string& point, int failAt) {
  calgate::test::GraphAndRadicale t(From::Radicale, Direction::OneWay, "crash-src");
  auto& [fake, m, dav, src, p] = t;
  int hits = 0;
  bool fired = false;
  SyncOptions crashing;
  crashing.failpoint = [&](std::string_view at) -> core::Result<void> {
    if (at == point && ++hits == failAt) {
      fired = true;
      return core::fail(core::ErrorCode::Internal, "crash at " + std::string(at));
    }
    return {};
  };
  auto runWithRestart = [&] {
    p.restart(crashing);
    auto r = p.f.engine->syncPair(p.pairId, *dav.provider, *m.provider);
    if (!r) {
      // the process died here; a new one starts hours later (past any transactionId window)
      // from what the database and Microsoft 365 hold
      fake.clock({{"advanceMs", 3 * 3600 * 1000}});
      p.restart(SyncOptions{});
      p.sync(*dav.provider, *m.provider);
    }
  };
  dav.put(src, "a", vevent("a", "A", berlin(2, 9), berlin(2, 10)));
  const std::string b = dav.put(src, "b", vevent("b", "B", berlin(2, 11), berlin(2, 12)));
  dav.put(src, "c", vevent("c", "C", berlin(2, 13), berlin(2, 14)));
  dav.put(src, "e", vevent("e", "E", ";VALUE=DATE:20261207", ";VALUE=DATE:20261208"));
  runWithRestart();
  dav.put(src, "a", vevent("a", "A2", berlin(2, 15), berlin(2, 16)));
  dav.remove(b);
  dav.put(src, "d", vevent("d", "D", berlin(4, 9), berlin(4, 10)));
  runWithRestart();
  CHECK(p.sync(*dav.provider, *m.provider).writes() == 0);
  return {fired, shown(m)};
}

}  // namespace

TEST_CASE("Microsoft as target: a crash at any write boundary loses no change and duplicates nothing", "[sync][microsoft][crash]") {
  const auto [none, expected] = crashScenario("none", 1);
  REQUIRE_FALSE(none);
  REQUIRE(expected.size() == 4);  // A2, C, D, E
  for (const std::string point : {"before_write", "after_write", "after_record"}) {
    int crashes = 0;
    for (int k = 1;; ++k) {
      const auto [fired, result] = crashScenario(point, k);
      if (!fired) break;
      ++crashes;
      INFO(point << " #" << k);
      CHECK(result == expected);
    }
    INFO(point);
    CHECK(crashes >= 6);  // every write of both phases was a crash site
  }
}

namespace {

std::string fileText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("chaos: random edits on both sides of Microsoft <-> Radicale with 10 % injected faults converge, no duplicates, no echo",
          "[sync][microsoft][chaos]") {
  calgate::test::GraphAndRadicale t(From::Graph, Direction::TwoWay, "chaos", {}, {{"seed", "11"}});
  auto& [fake, m, dav, cal, p] = t;

  std::mt19937 random(20261202);
  const std::string marker = "chaos" + std::to_string(std::random_device{}() % 100000);
  std::vector<std::string> graphOriginals, davOriginals;
  int created = 0, failedRuns = 0;
  auto title = [&] { return marker + "-" + std::to_string(++created); };
  for (int round = 0; round < 30; ++round) {
    fake.faults(json::array({{{"status", 429}, {"rate", 0.04}, {"retryAfter", 0.01}},
                             {{"status", 503}, {"rate", 0.03}, {"retryAfter", 0.01}},
                             {{"status", 500}, {"rate", 0.03}}}));
    for (int edit = 0; edit < 4; ++edit) {
      const int day = 1 + static_cast<int>(random() % 27);
      const int hour = 8 + static_cast<int>(random() % 10);
      switch (random() % 6) {
        case 0:
        case 1: {
          char start[32], end[32];
          std::snprintf(start, sizeof start, "2026-12-%02dT%02d:00:00", day, hour);
          std::snprintf(end, sizeof end, "2026-12-%02dT%02d:30:00", day, hour);
          graphOriginals.push_back(m.create({{"subject", title()}, {"start", {{"dateTime", start}, {"timeZone", "UTC"}}},
                                             {"end", {{"dateTime", end}, {"timeZone", "UTC"}}}})["id"]);
          break;
        }
        case 2: {
          const std::string uid = "d" + std::to_string(created + 1);
          dav.put(cal, uid, vevent(uid, title(), berlin(day, hour), berlin(day, hour + 1)));
          davOriginals.push_back(uid);
          break;
        }
        case 3:
          if (!graphOriginals.empty()) m.edit(graphOriginals[random() % graphOriginals.size()], {{"subject", title()}});
          break;
        case 4:
          if (!graphOriginals.empty()) {
            const auto at = random() % graphOriginals.size();
            m.remove(graphOriginals[at]);
            graphOriginals.erase(graphOriginals.begin() + static_cast<long>(at));
          }
          break;
        default:
          if (!davOriginals.empty()) {
            const auto at = random() % davOriginals.size();
            dav.remove(cal + davOriginals[at] + ".ics");
            davOriginals.erase(davOriginals.begin() + static_cast<long>(at));
          }
      }
    }
    auto r = p.f.engine->syncPair(p.pairId, *m.provider, *dav.provider);
    if (!r) ++failedRuns;
  }
  fake.faults(json::array());
  p.sync(*m.provider, *dav.provider);
  const std::size_t writes = p.writes;
  CHECK(p.sync(*m.provider, *dav.provider).writes() == 0);
  CHECK(p.writes == writes);

  std::multiset<std::string> inGraph, inDav;
  for (const auto& e : m.stored()) inGraph.insert(e.value("subject", ""));
  for (const auto& e : dav.events(cal)) inDav.insert(e.title);
  CHECK(inGraph == inDav);
  CHECK(inGraph.size() == graphOriginals.size() + davOriginals.size());
  CHECK(std::set<std::string>(inGraph.begin(), inGraph.end()).size() == inGraph.size());  // no duplicates
  INFO("failed runs: " << failedRuns);
  const auto requests = fake.state()["requests"];
  const auto faulted = std::count_if(requests.begin(), requests.end(), [](const json& r) {
    return r["status"] == 429 || r["status"] == 503 || r["status"] == 500;
  });
  INFO(requests.size() << " requests, " << faulted << " faulted");
  CHECK(faulted >= 5);

  if (!p.f.t.sqliteFile().empty()) {
    std::string bytes = fileText(p.f.t.sqliteFile());
    bytes += fileText(p.f.t.sqliteFile().string() + "-wal");
    CHECK(bytes.find(marker) == std::string::npos);
  }
}
