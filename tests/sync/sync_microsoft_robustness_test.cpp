// Microsoft 365 as a target under crashes and faults: a crash at every write boundary loses nothing
// and duplicates nothing (a create retried hours later finds the copy by its origin marker); a
// chaos run (random edits on both sides of a two-way pair, 10 % injected 429/503/500 and Graph's
// replays and duplicates) converges with no duplicates and no echo writes, and leaves no event
// text in the database. Needs the caldav service fixture and node.
#include "sync/chaos.hpp"
#include "sync/graph_pair.hpp"

#include <catch2/catch.hpp>

#include <set>

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

/// What a Graph calendar shows: "<subject>@<start>" of every stored event, and of a series its
/// exceptions ("<subject>@<start> of <original start>") and cancellations ("cancelled <original start>").
std::multiset<std::string> shown(GraphSide& m) {
  std::multiset<std::string> out;
  for (const auto& e : m.stored()) {
    out.insert(e.value("subject", "") + "@" + e["start"].value("dateTime", ""));
    for (const auto& x : e.value("exceptions", json::array())) {
      out.insert(x.value("subject", "") + "@" + x["start"].value("dateTime", "") + " of " + x.value("originalStart", ""));
    }
    for (const auto& c : e.value("cancelled", json::array())) out.insert("cancelled " + c.get<std::string>());
  }
  return out;
}

/// One run with `crashing`'s failpoint; when the process dies there, a new one starts hours later
/// (past any transactionId window) from what the database and Microsoft 365 hold, and syncs.
void syncCrashingOnce(calgate::test::GraphAndRadicale& t, const SyncOptions& crashing) {
  auto& p = t.pair;
  p.restart(crashing);
  auto r = p.f.engine->syncPair(p.pairId, *t.dav.provider, *t.graph.provider);
  if (!r) {
    t.fake.clock({{"advanceMs", 3 * 3600 * 1000}});
    p.restart(SyncOptions{});
    p.sync(*t.dav.provider, *t.graph.provider);
  }
}

/// A Radicale -> Microsoft pair in two phases (initial sync, then changes), a crash at the
/// `failAt`th hit of `point` in either phase, and a restart, hours later, that syncs again.
std::pair<bool, std::multiset<std::string>> crashScenario(const std::string& point, int failAt) {
  calgate::test::GraphAndRadicale t(From::Radicale, Direction::OneWay, "crash-src");
  auto& [fake, m, dav, src, p] = t;
  bool fired = false;
  const SyncOptions crashing = calgate::test::crashingAt(point, failAt, fired);
  auto runWithRestart = [&] { syncCrashingOnce(t, crashing); };
  const std::string series = vevent("series", "Series", berlin(1, 9), berlin(1, 10), "RRULE:FREQ=DAILY;COUNT=10\r\n");
  const std::string moved = vevent("series", "Series (moved)", berlin(3, 11), berlin(3, 12), "RECURRENCE-ID" + berlin(3, 9) + "\r\n");
  dav.put(src, "series", series + moved);
  dav.put(src, "a", vevent("a", "A", berlin(2, 9), berlin(2, 10)));
  const std::string b = dav.put(src, "b", vevent("b", "B", berlin(2, 11), berlin(2, 12)));
  dav.put(src, "c", vevent("c", "C", berlin(2, 13), berlin(2, 14)));
  dav.put(src, "e", vevent("e", "E", ";VALUE=DATE:20261207", ";VALUE=DATE:20261208"));
  runWithRestart();
  dav.put(src, "a", vevent("a", "A2", berlin(2, 15), berlin(2, 16)));
  dav.remove(b);
  dav.put(src, "d", vevent("d", "D", berlin(4, 9), berlin(4, 10)));
  dav.put(src, "series", vevent("series", "Series", berlin(1, 9), berlin(1, 10),
                                "RRULE:FREQ=DAILY;COUNT=10\r\nEXDATE" + berlin(5, 9) + "\r\n") + moved);
  runWithRestart();
  CHECK(p.sync(*dav.provider, *m.provider).writes() == 0);
  return {fired, shown(m)};
}

/// The same for a series Outlook cannot hold exactly (the 31st of every month), copied as its
/// occurrences: created, then one cancelled, one moved and one new event next to it.
std::pair<bool, std::multiset<std::string>> expandedCrashScenario(const std::string& point, int failAt) {
  calgate::test::GraphAndRadicale t(From::Radicale, Direction::OneWay, "crash-expanded");
  auto& [fake, m, dav, src, p] = t;
  bool fired = false;
  const SyncOptions crashing = calgate::test::crashingAt(point, failAt, fired);
  auto runWithRestart = [&] { syncCrashingOnce(t, crashing); };
  const std::string start = ";TZID=Europe/Berlin:20261231T090000", end = ";TZID=Europe/Berlin:20261231T093000";
  const std::string href = dav.put(src, "month-end", vevent("month-end", "Month end", start, end, "RRULE:FREQ=MONTHLY;BYMONTHDAY=31;COUNT=6\r\n"));
  runWithRestart();
  const std::string moved = vevent("month-end", "Month end (moved)", ";TZID=Europe/Berlin:20270330T150000",
                                   ";TZID=Europe/Berlin:20270330T153000", "RECURRENCE-ID;TZID=Europe/Berlin:20270331T090000\r\n");
  dav.put(src, "month-end", vevent("month-end", "Month end", start, end,
                                   "RRULE:FREQ=MONTHLY;BYMONTHDAY=31;COUNT=6\r\nEXDATE;TZID=Europe/Berlin:20270531T090000\r\n") + moved);
  dav.put(src, "d", vevent("d", "D", berlin(4, 9), berlin(4, 10)));
  runWithRestart();
  CHECK(p.sync(*dav.provider, *m.provider).writes() == 0);
  std::multiset<std::string> result;
  for (const auto& s : shown(m)) result.insert("changed: " + s);
  // the series goes: each of its copies goes with its own removal, however many a crash interrupts
  dav.remove(href);
  runWithRestart();
  CHECK(p.sync(*dav.provider, *m.provider).writes() == 0);
  for (const auto& s : shown(m)) result.insert("deleted: " + s);
  return {fired, result};
}

}  // namespace

TEST_CASE("Microsoft as target: a series copied as its occurrences survives a crash at any write boundary", "[sync][microsoft][crash][expanded]") {
  // five occurrences left of six (one of them moved) and D; then D alone
  calgate::test::crashAtEveryWriteBoundary(expandedCrashScenario, 7);
}

TEST_CASE("Microsoft as target: a crash at any write boundary loses no change and duplicates nothing", "[sync][microsoft][crash]") {
  calgate::test::crashAtEveryWriteBoundary(crashScenario, 7);  // A2, C, D, E, the series, its moved and its cancelled occurrence
}

TEST_CASE("chaos: random edits on both sides of Microsoft <-> Radicale with 10 % injected faults converge, no duplicates, no echo",
          "[sync][microsoft][chaos]") {
  calgate::test::GraphAndRadicale t(From::Graph, Direction::TwoWay, "chaos", {}, {{"seed", "11"}});
  auto& [fake, m, dav, cal, p] = t;
  calgate::test::ChaosSide side{
      *m.provider, [&](const json& rules) { fake.faults(rules); },
      [&](const std::string& title, int day, int hour) -> std::string {
        char start[32], end[32];
        std::snprintf(start, sizeof start, "2026-12-%02dT%02d:00:00", day, hour);
        std::snprintf(end, sizeof end, "2026-12-%02dT%02d:30:00", day, hour);
        return m.create({{"subject", title}, {"start", {{"dateTime", start}, {"timeZone", "UTC"}}}, {"end", {{"dateTime", end}, {"timeZone", "UTC"}}}})["id"];
      },
      [&](const std::string& id, const std::string& title) { m.edit(id, {{"subject", title}}); },
      [&](const std::string& id) { m.remove(id); },
      [&] {
        std::multiset<std::string> out;
        for (const auto& e : m.stored()) out.insert(e.value("subject", ""));
        return out;
      },
      [&] {
        const auto requests = fake.state()["requests"];
        return static_cast<std::size_t>(std::count_if(requests.begin(), requests.end(), [](const json& r) {
          return r["status"] == 429 || r["status"] == 503 || r["status"] == 500;
        }));
      }};
  // Graph's Retry-After is waited in the call: a short one keeps the run quick
  calgate::test::chaosRun(side, json::array({{{"status", 429}, {"rate", 0.04}, {"retryAfter", 0.01}},
                                             {{"status", 503}, {"rate", 0.03}, {"retryAfter", 0.01}}, {{"status", 500}, {"rate", 0.03}}}),
                          dav, cal, p);
}
