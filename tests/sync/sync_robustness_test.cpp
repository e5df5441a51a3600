// Two-way convergence under random edits, crashes at every step boundary, and a scan of the
// database for event content after a full sync.
#include "support/temp_dir.hpp"
#include "sync/sync_fixture.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <sstream>

using namespace calgate;
using namespace calgate::sync;
using namespace std::chrono;
using calgate::model::Event;
using calgate::test::FakeProvider;
using calgate::test::SyncFixture;
using calgate::test::timedEvent;

namespace {

const sys_seconds kBase = sys_days(2026y / November / 23) + hours(8);

/// What a calendar shows, as (title, start) pairs: originals and copies alike.
std::multiset<std::pair<std::string, long long>> shown(const FakeProvider& p, const std::string& cal) {
  std::multiset<std::pair<std::string, long long>> out;
  for (const auto& r : p.resources(cal)) {
    const auto& e = r.front();
    out.emplace(e.title, std::get<model::ZonedTime>(e.start).instant.time_since_epoch().count());
  }
  return out;
}

struct Side {
  FakeProvider& provider;
  std::string calendar;
  std::string prefix;
  std::vector<std::string> originals;  // ids of originals living here
};

}  // namespace

TEST_CASE("two-way sync under random edits on both sides converges without duplicates or echoes", "[sync][twoway]") {
  const auto seed = GENERATE(1u, 2u, 3u);
  SyncOptions options;
  options.restoreDeletedCopies = true;  // so deleted copies come back and both sides stay equal
  options.massDeleteMinimum = 1000;     // random deletions are intended here
  SyncFixture f(Direction::TwoWay, options);
  std::mt19937 rng(seed);
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  Side work{f.work, SyncFixture::kWork, "w", {}};
  Side home{f.home, SyncFixture::kHome, "h", {}};
  int counter = 0;
  std::size_t copyEdits = 0;

  for (int round = 0; round < 40; ++round) {
    const int ops = 1 + static_cast<int>(pick(3));
    for (int op = 0; op < ops; ++op) {
      Side& s = pick(2) == 0 ? work : home;
      const auto kind = pick(10);
      if (kind < 4 || s.originals.empty()) {  // create an original
        ++counter;
        const std::string uid = s.prefix + std::to_string(counter);
        s.originals.push_back(s.provider.userPut(
            s.calendar, {timedEvent(uid, uid + "-v0", kBase + hours(counter), minutes(30 + 15 * (counter % 3)))}));
      } else if (kind < 7) {  // edit an original: new title and time
        const auto& id = s.originals[pick(s.originals.size())];
        auto current = s.provider.getEvent(s.calendar, id);
        REQUIRE(current);
        Event e = current->front();
        e.title = e.uid + "-v" + std::to_string(++counter);
        e.start = model::ZonedTime{kBase + hours(counter), "UTC"};
        e.end = model::ZonedTime{kBase + hours(counter) + minutes(45), "UTC"};
        s.provider.userPut(s.calendar, {e});
      } else if (kind < 9) {  // delete an original
        const auto i = pick(s.originals.size());
        s.provider.userDelete(s.calendar, s.originals[i]);
        s.originals.erase(s.originals.begin() + static_cast<long>(i));
      } else {  // a user edits or deletes a copy: calgate restores it
        std::vector<std::vector<Event>> copies;
        for (auto& r : s.provider.resources(s.calendar)) {
          if (r.front().origin) copies.push_back(r);
        }
        if (copies.empty()) continue;
        Event c = copies[pick(copies.size())].front();
        ++copyEdits;
        if (pick(2) == 0) {
          c.title = "scribbled over";
          s.provider.userPut(s.calendar, {c});
        } else {
          s.provider.userDelete(s.calendar, c.id);
        }
      }
    }
    f.sync();
  }
  // settle, then nothing more may happen: no echo writes
  f.sync();
  const std::size_t writes = f.work.writes() + f.home.writes();
  auto last = f.sync();
  CHECK(last.writes() == 0);
  CHECK(f.work.writes() + f.home.writes() == writes);

  const auto a = shown(f.work, SyncFixture::kWork);
  const auto b = shown(f.home, SyncFixture::kHome);
  CHECK(a == b);
  CHECK(a.size() == work.originals.size() + home.originals.size());
  std::set<std::string> titles;
  for (const auto& [title, start] : a) {
    INFO(title);
    CHECK(titles.insert(title).second);  // no duplicates
    CHECK(title != "scribbled over");
  }
  INFO("seed " << seed << ", copy edits " << copyEdits);
  CHECK(counter > 20);
}

namespace {

/// A scenario in two phases (initial sync, then changes). `failAt`: the failpoint and which of its
/// hits fails. Returns false when the scenario completed before that hit.
bool runScenario(SyncFixture& f, const std::string& point, int failAt, bool twoWay = false) {
  int hits = 0;
  bool fired = false;
  SyncOptions crashing;
  crashing.failpoint = [&](std::string_view p) -> core::Result<void> {
    if (p == point && ++hits == failAt) {
      fired = true;
      return core::fail(core::ErrorCode::Internal, "crash at " + std::string(p));
    }
    return {};
  };
  auto runWithRestart = [&] {
    f.restart(crashing);
    auto r = f.trySync();
    if (!r) {
      // the process died here; a new one starts from what the database and the target hold
      f.restart(SyncOptions{});
      f.sync();
    }
  };
  Event series = timedEvent("series", "Series", kBase, minutes(30));
  series.recurrence = {"RRULE:FREQ=DAILY;COUNT=10"};
  Event moved = timedEvent("series", "Series (moved)", kBase + days(2) + hours(1), minutes(30));
  moved.recurrenceId = model::ZonedTime{kBase + days(2), "UTC"};
  f.work.userPut(SyncFixture::kWork, {series, moved});
  const auto a = f.work.userPut(SyncFixture::kWork, {timedEvent("a", "A", kBase + hours(1))});
  const auto b = f.work.userPut(SyncFixture::kWork, {timedEvent("b", "B", kBase + hours(2))});
  f.work.userPut(SyncFixture::kWork, {timedEvent("c", "C", kBase + hours(3))});
  std::string h2;
  if (twoWay) {  // originals on the other side too
    f.home.userPut(SyncFixture::kHome, {timedEvent("h1", "H1", kBase + hours(6))});
    h2 = f.home.userPut(SyncFixture::kHome, {timedEvent("h2", "H2", kBase + hours(7))});
  }
  runWithRestart();

  f.work.userPut(SyncFixture::kWork, {timedEvent("a", "A2", kBase + hours(5))});
  f.work.userDelete(SyncFixture::kWork, b);
  f.work.userPut(SyncFixture::kWork, {timedEvent("d", "D", kBase + hours(4))});
  Event cancelled = timedEvent("series", "Series", kBase + days(3), minutes(30));
  cancelled.recurrenceId = model::ZonedTime{kBase + days(3), "UTC"};
  cancelled.status = model::Status::Cancelled;
  f.work.userPut(SyncFixture::kWork, {series, moved, cancelled});
  if (twoWay) {
    f.home.userPut(SyncFixture::kHome, {timedEvent("h1", "H1 moved", kBase + hours(9))});
    f.home.userDelete(SyncFixture::kHome, h2);
    f.home.userPut(SyncFixture::kHome, {timedEvent("h3", "H3", kBase + hours(8))});
  }
  runWithRestart();
  (void)a;
  return fired;
}

}  // namespace

TEST_CASE("a crash at any step boundary loses no change and duplicates nothing", "[sync][crash]") {
  // the outcome without any crash
  SyncFixture reference;
  REQUIRE_FALSE(runScenario(reference, "none", 1));
  const auto expected = shown(reference.home, SyncFixture::kHome);
  const auto expectedSeries = reference.byTitle(reference.home, SyncFixture::kHome)["Series"];
  REQUIRE(expected.size() == 4);  // Series, A2, C, D

  for (const std::string point : {"before_write", "after_write", "after_record"}) {
    int crashes = 0;
    for (int k = 1;; ++k) {
      SyncFixture f;
      const bool fired = runScenario(f, point, k);
      if (!fired) {
        INFO(point);
        CHECK(crashes >= 8);  // every write of both phases was a crash site
        break;
      }
      ++crashes;
      INFO(point << " #" << k);
      CHECK(shown(f.home, SyncFixture::kHome) == expected);
      auto copies = f.byTitle(f.home, SyncFixture::kHome);  // fails on a duplicate title
      CHECK(copies["Series"].size() == expectedSeries.size());
      CHECK(f.sync().writes() == 0);
      REQUIRE(k < 50);
    }
  }
}

TEST_CASE("after a full sync the database holds no event content", "[sync][privacy]") {
  SyncFixture f(Direction::TwoWay);
  std::vector<std::string> secrets;
  for (int i = 0; i < 25; ++i) {
    Event e = timedEvent("uid-" + std::to_string(i), "Zephyrine merger talk " + std::to_string(i), kBase + hours(i));
    e.description = "Quillfeather acquisition terms " + std::to_string(i);
    e.location = "Vantablack boardroom " + std::to_string(i);
    e.attendees = {"ceo" + std::to_string(i) + "@target-corp.example"};
    secrets.push_back(e.title);
    secrets.push_back(e.description);
    secrets.push_back(e.location);
    secrets.push_back(e.attendees.front());
    (i % 2 ? f.work : f.home).userPut(i % 2 ? SyncFixture::kWork : SyncFixture::kHome, {e});
  }
  Event bad = timedEvent("bad", "Obsidianite secret", kBase, minutes(30), "Not/AZone");
  secrets.push_back(bad.title);
  f.work.userPut(SyncFixture::kWork, {bad});
  f.sync();
  f.sync();
  REQUIRE(f.home.creates >= 12);
  REQUIRE(f.work.creates >= 12);

  std::string everything;
  if (f.t.dialect() == store::Dialect::Sqlite) {
    f.t.close();  // checkpoint nothing away: read the main file and the WAL as they are
    for (const auto& path : {f.t.sqliteFile(), std::filesystem::path(f.t.sqliteFile().string() + "-wal")}) {
      std::ifstream in(path, std::ios::binary);
      everything.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    REQUIRE(everything.size() > 10000);
  } else {
    REQUIRE(f.t.db().withSession([&](soci::session& sql) -> core::Result<void> {
      std::vector<std::string> tables(200);
      sql << "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'", soci::into(tables);
      for (const auto& t : tables) {
        soci::rowset<std::string> rows = (sql.prepare << "SELECT row_to_json(x)::text FROM \"" + t + "\" x");
        for (const auto& r : rows) everything += r + "\n";
      }
      return {};
    }));
    REQUIRE(everything.find("sync.write") != std::string::npos);  // the scan sees the audit log
  }
  for (const auto& s : secrets) {
    INFO(s);
    CHECK(everything.find(s) == std::string::npos);
  }
}

TEST_CASE("two-way: a crash at any step boundary loses no change and duplicates nothing", "[sync][crash][twoway]") {
  SyncFixture reference(Direction::TwoWay);
  REQUIRE_FALSE(runScenario(reference, "none", 1, true));
  const auto expectedWork = shown(reference.work, SyncFixture::kWork);
  const auto expectedHome = shown(reference.home, SyncFixture::kHome);
  REQUIRE(expectedHome.size() == 6);  // Series, A2, C, D, H1 moved, H3
  REQUIRE(expectedWork == expectedHome);

  for (const std::string point : {"before_write", "after_write", "after_record"}) {
    int crashes = 0;
    for (int k = 1;; ++k) {
      SyncFixture f(Direction::TwoWay);
      if (!runScenario(f, point, k, true)) {
        INFO(point);
        CHECK(crashes >= 13);  // both directions' writes of both phases
        break;
      }
      ++crashes;
      INFO(point << " #" << k);
      CHECK(shown(f.work, SyncFixture::kWork) == expectedWork);
      CHECK(shown(f.home, SyncFixture::kHome) == expectedHome);
      f.byTitle(f.work, SyncFixture::kWork);  // fails on a duplicate title
      f.byTitle(f.home, SyncFixture::kHome);
      CHECK(f.sync().writes() == 0);
      REQUIRE(k < 60);
    }
  }
}
