#pragma once
// The crash check and the chaos run of the OAuth adapters' robustness tests. The chaos run: random edits on both sides of a two-way
// pair between a provider calendar (acted on through its fake as its user) and a Radicale calendar,
// 30 rounds with faults injected at the provider, a sync after each (it may fail); then faults
// off, a sync, and the checks: a further sync writes nothing, both sides show the same titles,
// one copy each (no duplicates, no echo), the faults did hit, and no event text is in the database.
#include "sync/google_pair.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <sstream>

namespace calgate::test {

/// The provider side of a chaos run, as its user acts on it.
struct ChaosSide {
  providers::Provider& provider;
  std::function<void(const nlohmann::json& rules)> faults;              ///< the fake's fault rules (empty: off)
  std::function<std::string(const std::string& title, int day, int hour)> create;  ///< -> the event's id
  std::function<void(const std::string& id, const std::string& title)> retitle;
  std::function<void(const std::string& id)> remove;
  std::function<std::multiset<std::string>()> titles;  ///< what the calendar shows
  std::function<std::size_t()> faulted;                ///< requests the fake failed on purpose
};

inline std::string chaosFileText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void chaosRun(ChaosSide side, const nlohmann::json& faultRules, Dav& dav, const std::string& cal, EnginePair& p) {
  std::mt19937 random(20261202);
  const std::string marker = "chaos" + std::to_string(std::random_device{}() % 100000);
  std::vector<std::string> providerOriginals, davOriginals;
  int created = 0, failedRuns = 0;
  auto title = [&] { return marker + "-" + std::to_string(++created); };
  auto berlin = [](int day, int hour) {
    char buf[40];
    std::snprintf(buf, sizeof buf, ";TZID=Europe/Berlin:202612%02dT%02d0000", day, hour);
    return std::string(buf);
  };
  for (int round = 0; round < 30; ++round) {
    side.faults(faultRules);
    for (int edit = 0; edit < 4; ++edit) {
      const int day = 1 + static_cast<int>(random() % 27);
      const int hour = 8 + static_cast<int>(random() % 10);
      switch (random() % 6) {
        case 0:
        case 1:
          providerOriginals.push_back(side.create(title(), day, hour));
          break;
        case 2: {
          const std::string uid = "d" + std::to_string(created + 1);
          dav.put(cal, uid, vevent(uid, title(), berlin(day, hour), berlin(day, hour + 1)));
          davOriginals.push_back(uid);
          break;
        }
        case 3:
          if (!providerOriginals.empty()) side.retitle(providerOriginals[random() % providerOriginals.size()], title());
          break;
        case 4:
          if (!providerOriginals.empty()) {
            const auto at = random() % providerOriginals.size();
            side.remove(providerOriginals[at]);
            providerOriginals.erase(providerOriginals.begin() + static_cast<long>(at));
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
    auto r = p.f.engine->syncPair(p.pairId, side.provider, *dav.provider);
    if (!r) ++failedRuns;
  }
  side.faults(nlohmann::json::array());
  p.sync(side.provider, *dav.provider);
  const std::size_t writes = p.writes;
  CHECK(p.sync(side.provider, *dav.provider).writes() == 0);
  CHECK(p.writes == writes);

  const auto inProvider = side.titles();
  std::multiset<std::string> inDav;
  for (const auto& e : dav.events(cal)) inDav.insert(e.title);
  CHECK(inProvider == inDav);
  CHECK(inProvider.size() == providerOriginals.size() + davOriginals.size());
  CHECK(std::set<std::string>(inProvider.begin(), inProvider.end()).size() == inProvider.size());  // no duplicates
  INFO("failed runs: " << failedRuns);
  CHECK(side.faulted() >= 5);  // the faults did hit

  // nothing of the events (their titles) in the database
  if (!p.f.t.sqliteFile().empty()) {
    std::string bytes = chaosFileText(p.f.t.sqliteFile());
    bytes += chaosFileText(p.f.t.sqliteFile().string() + "-wal");
    CHECK(bytes.find(marker) == std::string::npos);
  }
}

/// Sync options that crash a run at the `failAt`th hit of failpoint `point` (and set `fired`),
/// counting hits across every run made with copies of them.
inline sync::SyncOptions crashingAt(const std::string& point, int failAt, bool& fired) {
  sync::SyncOptions crashing;
  crashing.failpoint = [point, failAt, &fired, hits = std::make_shared<int>(0)](std::string_view at) -> core::Result<void> {
    if (at == point && ++*hits == failAt) {
      fired = true;
      return core::fail(core::ErrorCode::Internal, "crash at " + std::string(at));
    }
    return {};
  };
  return crashing;
}

/// The crash check of the robustness suites: `scenario(point, k)` runs a pair's two phases with a
/// crash at the k-th hit of failpoint `point` and a restart, and answers whether it crashed and
/// what the target shows then. Without a crash it shows `expected`; with a crash at every write
/// boundary (before_write, after_write, after_record) of both phases it must show the same.
template <class Scenario>
void crashAtEveryWriteBoundary(Scenario scenario, std::size_t expectedSize) {
  const auto [none, expected] = scenario("none", 1);
  REQUIRE_FALSE(none);
  REQUIRE(expected.size() == expectedSize);
  for (const std::string point : {"before_write", "after_write", "after_record"}) {
    int crashes = 0;
    for (int k = 1;; ++k) {
      const auto [fired, result] = scenario(point, k);
      if (!fired) break;
      ++crashes;
      INFO(point << " #" << k);
      CHECK(result == expected);
    }
    INFO(point);
    CHECK(crashes >= 6);  // every write of both phases was a crash site
  }
}

}  // namespace calgate::test
