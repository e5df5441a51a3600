// One pull per change of a calendar, shared by every pair that reads it (SharedPulls), through the
// job queue and the service's workers as `calgate serve` runs them; every pull is counted.
#include "calgate/providers/forwarding_provider.hpp"
#include "calgate/sync/calendar_store.hpp"
#include "calgate/sync/shared_pulls.hpp"
#include "calgate/sync/sync_service.hpp"
#include "support/temp_dir.hpp"
#include "sync/sync_fixture.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace calgate;
using namespace calgate::sync;
using namespace std::chrono;
using calgate::test::FakeProvider;
using calgate::test::SyncFixture;
using calgate::test::timedEvent;

namespace {

const auto kStart = sys_days(2026y / November / 23) + hours(8);

/// Each calendar its own adapter (by calgate's calendar id), as the vault's factory would.
struct ByCalendar final : ProviderFactory {
  std::map<std::string, providers::Provider*> adapters;
  core::Result<std::unique_ptr<providers::Provider>> open(const CalendarRef& calendar, Deadline) override {
    return std::make_unique<providers::ForwardingProvider>(*adapters.at(calendar.id));
  }
};

/// The fixture's pair (work -> home) and two more pairs reading the same work calendar, each
/// into a calendar of its own, run by a service's workers.
struct ThreeReaders {
  SyncFixture f;
  FakeProvider second, third;  // the other pairs' targets
  std::vector<std::string> pairs{f.pairId};
  ByCalendar factory;
  test::TempDir data;
  std::unique_ptr<SyncService> service;

  ThreeReaders() {
    CalendarStore calendars(f.t.db(), f.clock);
    factory.adapters[f.workCal.id] = &f.work;
    factory.adapters[f.homeCal.id] = &f.home;
    for (auto* target : {&second, &third}) {
      const std::string name = target == &second ? "second" : "third";
      auto cal = calendars.upsert(f.homeCal.accountId, name, name, "Europe/Berlin", true);
      REQUIRE(cal);
      factory.adapters[cal->id] = target;
      if (target == &third) continue;  // made later (addPair)
      pairs.push_back(pairTo(cal->id));
    }
    SyncConfig config;
    config.workers = 0;  // the test runs the jobs (drain)
    service = std::make_unique<SyncService>(f.t.db(), f.orgs, factory, f.clock, config,
                                            ProcessIdentity::current(data.path()));
  }
  std::string pairTo(const std::string& calendarId) {
    NewPair np;
    np.userId = f.userId;
    np.sourceCalendarId = f.workCal.id;
    np.targetCalendarId = calendarId;
    auto p = PairStore(f.t.db(), f.clock).create(np);
    REQUIRE(p);
    return p->id;
  }
  void addThirdPair() {
    for (const auto& [id, adapter] : factory.adapters) {
      if (adapter == &third) pairs.push_back(pairTo(id));
    }
  }
  /// A sync of every pair requested now, as a poll tick or a notification asks for it.
  void request(const std::vector<std::string>& which) {
    JobQueue queue(f.t.db(), f.clock);
    for (const auto& id : which) REQUIRE(queue.enqueue("sync_pair", id, "sync:" + id));
  }
  void request() { request(pairs); }
  /// Runs every due job as a worker would; how many ran.
  int drain() {
    JobQueue queue(f.t.db(), f.clock);
    int ran = 0;
    for (; ran < 50; ++ran) {
      auto job = queue.claim("test-worker");
      REQUIRE(job);
      if (!*job) break;
      auto done = service->handle(**job);
      INFO((done ? std::string() : done.error().describe()));
      REQUIRE(done);
      REQUIRE(queue.complete(**job, "test-worker"));
    }
    return ran;
  }
  std::size_t copiesIn(FakeProvider& p, const std::string& calendar) { return p.resources(calendar).size(); }
};

}  // namespace

TEST_CASE("two pairs reading one calendar cause one pull of it per change", "[sync][shared]") {
  ThreeReaders r;
  for (int i = 0; i < 5; ++i) {
    r.f.work.userPut(SyncFixture::kWork, {timedEvent("e" + std::to_string(i), "Event " + std::to_string(i), kStart + hours(i))});
  }
  r.request();
  CHECK(r.drain() == 2);
  CHECK(r.f.work.pulls == 1);  // the first runs of both pairs: one listing of the work calendar
  CHECK(r.copiesIn(r.f.home, SyncFixture::kHome) == 5);
  CHECK(r.copiesIn(r.second, "second") == 5);

  // a change, and a sync of both pairs asked for: one more pull
  r.f.clock.advance(seconds(60));
  r.f.work.userPut(SyncFixture::kWork, {timedEvent("e5", "Event 5", kStart + hours(5))});
  r.request();
  CHECK(r.drain() == 2);
  CHECK(r.f.work.pulls == 2);
  CHECK(r.copiesIn(r.f.home, SyncFixture::kHome) == 6);
  CHECK(r.copiesIn(r.second, "second") == 6);

  SECTION("a request made after the other pair's pull began is not served by it") {
    r.f.clock.advance(seconds(60));
    r.request({r.pairs[0]});
    CHECK(r.drain() == 1);
    CHECK(r.f.work.pulls == 3);
    // the user changes the calendar right after, and the second pair is asked to sync
    r.f.clock.advance(seconds(1));
    r.f.work.userPut(SyncFixture::kWork, {timedEvent("e6", "Event 6", kStart + hours(6))});
    r.request({r.pairs[1]});
    CHECK(r.drain() == 1);
    CHECK(r.f.work.pulls == 4);  // its own pull: the earlier one cannot know of the change
    CHECK(r.copiesIn(r.second, "second") == 7);
    // the first pair's next run pulls from its own cursor and copies the change too
    r.f.clock.advance(seconds(60));
    r.request({r.pairs[0]});
    CHECK(r.drain() == 1);
    CHECK(r.copiesIn(r.f.home, SyncFixture::kHome) == 7);
  }
  SECTION("a pair made later pulls alone once, then shares") {
    r.f.clock.advance(seconds(60));
    // a change the first two pairs have not pulled yet when the third pair is made
    r.f.work.userPut(SyncFixture::kWork, {timedEvent("e6", "Event 6", kStart + hours(6))});
    r.addThirdPair();
    r.request({r.pairs[2]});
    CHECK(r.drain() == 1);
    CHECK(r.f.work.pulls == 3);  // its first, complete listing
    CHECK(r.copiesIn(r.third, "third") == 7);
    // it continues from the others' cursor (seeing e6 once more, which changes nothing): from now
    // on the three pairs share one pull per change
    r.f.clock.advance(seconds(60));
    r.f.work.userPut(SyncFixture::kWork, {timedEvent("e7", "Event 7", kStart + hours(7))});
    r.request();
    CHECK(r.drain() == 3);
    CHECK(r.f.work.pulls == 4);
    CHECK(r.third.writes() == 8);  // e6 seen again wrote nothing
    for (auto* p : {&r.f.home, &r.second, &r.third}) {
      const std::string cal = p == &r.f.home ? SyncFixture::kHome : p == &r.second ? "second" : "third";
      CHECK(r.copiesIn(*p, cal) == 8);
    }
    r.f.clock.advance(seconds(60));
    r.f.work.userPut(SyncFixture::kWork, {timedEvent("e8", "Event 8", kStart + hours(8))});
    r.request();
    CHECK(r.drain() == 3);
    CHECK(r.f.work.pulls == 5);
    CHECK(r.copiesIn(r.third, "third") == 9);
  }
}

TEST_CASE("a shared pull that fails fails every run waiting on it, and is not kept", "[sync][shared]") {
  test::FakeClock clock = test::FakeClock::at(2026y / November / 21, hours(9));
  SharedPulls pulls(clock);
  const PullKey key{"cal_1", "", 30, 365};
  int sent = 0;
  auto failing = [&]() -> core::Result<providers::ChangeSet> {
    ++sent;
    return core::fail(core::ErrorCode::Unavailable, "the server went away");
  };
  CHECK_FALSE(pulls.get(key, 0, failing));
  CHECK_FALSE(pulls.get(key, 0, failing));
  CHECK(sent == 2);  // a failure is not served to the next run
  auto ok = [&]() -> core::Result<providers::ChangeSet> {
    ++sent;
    providers::ChangeSet c;
    c.cursor = "after";
    return c;
  };
  auto first = pulls.get(key, 0, ok);
  REQUIRE(first);
  CHECK(first->own);
  auto second = pulls.get(key, 0, ok);
  REQUIRE(second);
  CHECK_FALSE(second->own);
  CHECK(second->changes == first->changes);
  CHECK(sent == 3);
  // a run wrote into the calendar: the pull from before serves nobody
  pulls.wrote("cal_2");  // another calendar: no matter
  CHECK_FALSE(pulls.get(key, 0, ok)->own);
  pulls.wrote("cal_1");
  auto afterWrite = pulls.get(key, 0, ok);
  REQUIRE(afterWrite);
  CHECK(afterWrite->own);
  CHECK(sent == 4);
  // asked for after that pull began: a pull of its own
  clock.advance(seconds(1));
  const long long later = duration_cast<milliseconds>(clock.now().time_since_epoch()).count();
  auto third = pulls.get(key, later, ok);
  REQUIRE(third);
  CHECK(third->own);
  CHECK(pulls.sent() == 5);
  CHECK(pulls.shared() == 2);
}

TEST_CASE("shared pulls keep at most so many events in memory", "[sync][shared]") {
  test::FakeClock clock = test::FakeClock::at(2026y / November / 21, hours(9));
  SharedPulls pulls(clock, minutes(1), 64, 10);
  auto listing = [](int events) {
    return [events]() -> core::Result<providers::ChangeSet> {
      providers::ChangeSet c;
      c.changed.resize(static_cast<std::size_t>(events));
      c.cursor = "c" + std::to_string(events);
      return c;
    };
  };
  const PullKey small{"cal_1", "", 30, 365}, large{"cal_2", "", 30, 365};
  // (each pull below that is its own pushes the other calendar's listing out)
  REQUIRE(pulls.get(small, 0, listing(4)));
  CHECK_FALSE(pulls.get(small, 0, listing(4))->own);  // kept
  REQUIRE(pulls.get(large, 0, listing(8)));              // 12 events: the older listing goes
  CHECK(pulls.get(small, 0, listing(4))->own);
  CHECK(pulls.get(large, 0, listing(8))->own);           // ...and so did the large one, to make room
  const PullKey huge{"cal_3", "", 30, 365};
  REQUIRE(pulls.get(huge, 0, listing(11)));              // more than the bound alone: used, never kept
  CHECK(pulls.get(huge, 0, listing(11))->own);
}

// (the copies the failed attempt recorded also change the versions the retry's pull is told it
// knows, so it is another pull key as well)
TEST_CASE("a run's retry never takes the listing its failed attempt pulled before writing", "[sync][shared]") {
  SyncFixture f;
  SharedPulls pulls(f.clock);
  const long long requested = duration_cast<milliseconds>(f.clock.now().time_since_epoch()).count();
  f.engine->sharePulls(&pulls, requested);
  for (int i = 0; i < 10; ++i) {
    f.work.userPut(SyncFixture::kWork, {timedEvent("e" + std::to_string(i), "Event " + std::to_string(i), kStart + hours(i))});
  }
  int writes = 0;
  f.home.beforeWrite = [&](const std::string&) -> core::Result<void> {
    if (++writes > 4) return core::fail(core::ErrorCode::Unavailable, "the server went away");
    return {};
  };
  REQUIRE_FALSE(f.trySync());  // 4 copies written and recorded, then the server failed
  f.home.beforeWrite = nullptr;
  // the retry (same request, nothing of the clock moved): the target's listing from before the 4
  // copies must not serve it, or they would look deleted by the user
  auto retry = f.trySync();
  REQUIRE(retry);
  CHECK(retry->created == 6);
  CHECK(retry->respectedDeletions == 0);
  CHECK(f.home.resources(SyncFixture::kHome).size() == 10);
  // and a source deleted later takes its copy with it
  f.clock.advance(seconds(60));
  f.engine->sharePulls(&pulls, requested + 60000);
  f.work.userDelete(SyncFixture::kWork, f.work.resources(SyncFixture::kWork).front().front().id);
  auto after = f.trySync();
  REQUIRE(after);
  CHECK(after->deleted == 1);
  CHECK(f.home.resources(SyncFixture::kHome).size() == 9);
}
