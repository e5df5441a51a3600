// Regressions from the review of the sync engine: each case failed before its fix.
#include "calgate/providers/forwarding_provider.hpp"
#include "calgate/sync/job_queue.hpp"
#include "sync/sync_fixture.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include <algorithm>
#include <map>

using namespace calgate;
using namespace calgate::sync;
using namespace std::chrono;
using calgate::model::Event;
using calgate::test::SyncFixture;
using calgate::test::FakeProvider;
using calgate::test::timedEvent;

namespace {
const sys_seconds kMonday = sys_days(2026y / November / 23) + hours(9);
const sys_seconds kNow = sys_days(2026y / November / 21) + hours(9);

long long unixOf(const model::EventTime& t) {
  if (auto* z = std::get_if<model::ZonedTime>(&t)) return z->instant.time_since_epoch().count();
  if (auto* d = std::get_if<model::Date>(&t)) return sys_days(d->day).time_since_epoch().count() * 86400;
  return 0;
}

/// A CalDAV server without sync-collection: every pull is a time-range listing, complete only
/// within the window (as the real adapter reports it with completeWithin).
class Windowed final : public providers::ForwardingProvider {
 public:
  explicit Windowed(FakeProvider& inner) : ForwardingProvider(inner) {}
  core::Result<providers::ChangeSet> pullChanges(const std::string& c, const std::string&,
                                                 const providers::TimeWindow& w,
                                                 const providers::KnownVersions& = {}) override {
    auto all = inner().pullChanges(c, "", w);
    if (!all) return all;
    providers::ChangeSet out;
    out.complete = true;
    out.completeWithin = w;
    out.cursor = all->cursor;
    const long long from = w.from.time_since_epoch().count(), to = w.to.time_since_epoch().count();
    // a resource is listed when any of its instances overlaps the window; series here are
    // "RRULE:FREQ=WEEKLY;COUNT=n" only
    std::map<std::string, bool> keep;
    for (const auto& e : all->changed) {
      if (e.recurrenceId) continue;
      long long s = unixOf(e.start), en = unixOf(e.end);
      if (!e.recurrence.empty()) {
        auto pos = e.recurrence.front().find("COUNT=");
        int n = std::stoi(e.recurrence.front().substr(pos + 6));
        en += (n - 1) * 7LL * 86400;
      }
      keep[e.id] = en > from && s < to;
    }
    for (const auto& e : all->changed) {
      if (keep[e.id]) out.changed.push_back(e);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("a series rebuilt after a withdrawn exception is not rebuilt again on later listings", "[sync][regression]") {
  SyncFixture f;
  Event master = timedEvent("weekly", "Weekly", kMonday, minutes(30));
  master.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=6"};
  Event moved = timedEvent("weekly", "Weekly (moved)", kMonday + days(7) + hours(3), minutes(30));
  moved.recurrenceId = model::ZonedTime{kMonday + days(7), "UTC"};
  f.work.userPut(SyncFixture::kWork, {master, moved});
  f.sync();
  f.work.userPut(SyncFixture::kWork, {master});  // exception withdrawn
  auto rebuild = f.sync();
  CHECK(rebuild.writes() == 2);
  CHECK(f.sync().writes() == 0);
  // nothing changes, but the source is listed again (expired token / CTag server / any other edit)
  f.work.expireCursors();
  f.home.expireCursors();
  auto again = f.sync();
  INFO("deleted " << again.deleted << " created " << again.created << " restored " << again.restored);
  CHECK(again.writes() == 0);
  f.work.expireCursors();
  CHECK(f.sync().writes() == 0);
}

TEST_CASE("exceptions withdrawn one after another stay withdrawn: later listings rebuild nothing", "[sync][regression]") {
  SyncFixture f;
  Event master = timedEvent("weekly", "Weekly", kMonday, minutes(30));
  master.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=6"};
  Event a = timedEvent("weekly", "Weekly (A)", kMonday + days(7) + hours(3), minutes(30));
  a.recurrenceId = model::ZonedTime{kMonday + days(7), "UTC"};
  Event b = timedEvent("weekly", "Weekly (B)", kMonday + days(14) + hours(3), minutes(30));
  b.recurrenceId = model::ZonedTime{kMonday + days(14), "UTC"};
  f.work.userPut(SyncFixture::kWork, {master, a, b});
  f.sync();
  f.work.userPut(SyncFixture::kWork, {master, b});  // A withdrawn
  f.sync();
  f.work.userPut(SyncFixture::kWork, {master});  // then B
  f.sync();
  f.work.expireCursors();
  f.home.expireCursors();
  auto again = f.sync();
  INFO("deleted " << again.deleted << " created " << again.created << " restored " << again.restored);
  CHECK(again.writes() == 0);
}

TEST_CASE("a crash between a create and its record, then a source change: the change still arrives", "[sync][regression][crash]") {
  SyncFixture f;
  f.work.userPut(SyncFixture::kWork, {timedEvent("a", "Standup", kMonday)});
  SyncOptions crashing;
  crashing.failpoint = [](std::string_view p) -> core::Result<void> {
    if (p == "after_write") return core::fail(core::ErrorCode::Internal, "crash");
    return {};
  };
  f.restart(crashing);
  REQUIRE_FALSE(f.trySync());
  // the user edits the source before calgate restarts
  f.work.userPut(SyncFixture::kWork, {timedEvent("a", "Standup moved", kMonday + hours(1))});
  f.restart(SyncOptions{});
  f.sync();
  auto copies = f.byTitle(f.home, SyncFixture::kHome);
  CHECK(copies.count("Standup moved"));
  CHECK_FALSE(copies.count("Standup"));
  CHECK(f.sync().writes() == 0);
}

TEST_CASE("two-way: a copy whose origin marker a client dropped is not mirrored back", "[sync][regression][twoway]") {
  SyncFixture f(Direction::TwoWay);
  f.work.userPut(SyncFixture::kWork, {timedEvent("a", "Standup", kMonday)});
  f.sync();
  auto copy = f.home.resources(SyncFixture::kHome).front().front();
  REQUIRE(copy.origin);
  copy.origin.reset();  // a client that drops X- properties on edit
  copy.title = "Standup (edited in home)";
  f.home.userPut(SyncFixture::kHome, {copy});
  f.sync();
  f.sync();
  INFO("work holds " << f.work.resources(SyncFixture::kWork).size() << " resources");
  CHECK(f.work.resources(SyncFixture::kWork).size() == 1);
  CHECK(f.home.resources(SyncFixture::kHome).size() == 1);
}

TEST_CASE("a time-range target listing does not take aged-out copies for user deletions", "[sync][regression][window]") {
  SyncFixture f;
  Windowed home(f.home);
  const auto srcId = f.work.userPut(SyncFixture::kWork, {timedEvent("old", "Old", kNow - days(89), minutes(60))});
  REQUIRE(f.engine->syncPair(f.pairId, f.work, home));
  REQUIRE(f.home.creates == 1);
  f.clock.advance(days(2));
  auto r = f.engine->syncPair(f.pairId, f.work, home);
  REQUIRE(r);
  CHECK(r->respectedDeletions == 0);
  // the source goes: its copy should go too (as with a non-windowed target)
  f.work.userDelete(SyncFixture::kWork, srcId);
  auto r2 = f.engine->syncPair(f.pairId, f.work, home);
  REQUIRE(r2);
  CHECK(r2->deleted == 1);
  CHECK(f.home.resources(SyncFixture::kHome).empty());
}

TEST_CASE("a time-range source listing does not delete the copy of a series that ended before the window", "[sync][regression][window]") {
  SyncFixture f;
  Windowed work(f.work);
  Event series = timedEvent("s", "Past series", kNow - days(85), minutes(30));
  series.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=2"};  // last occurrence now-78d
  f.work.userPut(SyncFixture::kWork, {series});
  f.work.userPut(SyncFixture::kWork, {timedEvent("single", "Past single", kNow - days(78), minutes(30))});
  REQUIRE(f.engine->syncPair(f.pairId, work, f.home));
  REQUIRE(f.home.creates == 2);
  f.clock.advance(days(20));  // both now end before the window
  auto r = f.engine->syncPair(f.pairId, work, f.home);
  REQUIRE(r);
  CHECK(r->deleted == 0);
  CHECK(f.home.resources(SyncFixture::kHome).size() == 2);
}

TEST_CASE("an event that leaves the window and comes back is deleted and recreated", "[sync][regression][window]") {
  SyncFixture f;
  // a plain event whose source moves out of the window, then back unchanged in content
  const auto id = f.work.userPut(SyncFixture::kWork, {timedEvent("x", "X", kMonday)});
  f.sync();
  f.work.userPut(SyncFixture::kWork, {timedEvent("x", "X", kNow + days(400))});
  CHECK(f.sync().deleted == 1);
  f.work.userPut(SyncFixture::kWork, {timedEvent("x", "X", kMonday)});
  CHECK(f.sync().created == 1);
  (void)id;
}

TEST_CASE("restore mode: a crash before recreating a user-deleted copy does not lose the restore", "[sync][regression][crash]") {
  SyncOptions restore;
  restore.restoreDeletedCopies = true;
  SyncFixture f(Direction::OneWay, restore);
  f.work.userPut(SyncFixture::kWork, {timedEvent("a", "Standup", kMonday)});
  f.sync();
  f.home.userDelete(SyncFixture::kHome, f.home.resources(SyncFixture::kHome).front().front().id);
  SyncOptions crashing = restore;
  crashing.failpoint = [](std::string_view p) -> core::Result<void> {
    if (p == "before_write") return core::fail(core::ErrorCode::Internal, "crash");
    return {};
  };
  f.restart(crashing);
  REQUIRE_FALSE(f.trySync());
  f.restart(restore);
  f.sync();
  f.sync();
  CHECK(f.home.resources(SyncFixture::kHome).size() == 1);
}

TEST_CASE("the mass-delete guard also stops copies leaving with events moved out of the window", "[sync][regression][guard]") {
  SyncFixture f;
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i)
    ids.push_back(f.work.userPut(SyncFixture::kWork, {timedEvent("e" + std::to_string(i), "E" + std::to_string(i), kMonday + hours(i))}));
  f.sync();
  // simulate a provider returning every event with a bogus start (e.g. a broken time zone) via the window
  for (int i = 0; i < 20; ++i)
    f.work.userPut(SyncFixture::kWork, {timedEvent("e" + std::to_string(i), "E" + std::to_string(i), kNow + days(500))});
  auto r = f.sync();
  CHECK(r.paused);
  CHECK(r.deleted == 0);
  CHECK(f.home.resources(SyncFixture::kHome).size() == 20);
}

TEST_CASE("a running job's heartbeat keeps its lease; a lost lease lets another worker take it", "[jobs][regression]") {
  SyncFixture f;
  sync::QueueOptions options;
  options.lease = seconds(60);
  sync::JobQueue q(f.t.db(), f.clock, options);
  REQUIRE(*q.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));
  auto j1 = q.claim("w1");  // a long initial sync...
  REQUIRE(*j1);
  for (int i = 0; i < 5; ++i) {  // ...that outlives its lease several times over, renewing it
    f.clock.advance(seconds(40));
    REQUIRE(q.renew(**j1, "w1"));
  }
  REQUIRE(*q.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));  // the scheduler's next poll
  CHECK_FALSE(*q.claim("w2"));  // neither the job nor its twin: the pair is busy
  CHECK_FALSE(*q.claim("w3"));
  // w1 dies: once its lease runs out, one worker takes the job, and nobody the twin meanwhile
  f.clock.advance(seconds(61));
  auto a = q.claim("w2");
  auto b = q.claim("w3");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(static_cast<int>(a->has_value()) + static_cast<int>(b->has_value()) == 1);
  CHECK_FALSE(q.renew(**j1, "w1"));  // the dead worker's heartbeat cannot take it back
}

TEST_CASE("ETags are compared as versions: a weak or unquoted form of the same ETag is no user edit", "[sync][regression]") {
  CHECK(providers::sameEtag("\"abc\"", "W/\"abc\""));
  CHECK(providers::sameEtag("abc", "\"abc\""));
  CHECK(providers::sameEtag("w/\"abc\"", "abc"));
  CHECK_FALSE(providers::sameEtag("\"abc\"", "\"abd\""));
  CHECK_FALSE(providers::sameEtag("", "\"a\""));
  SyncFixture f;
  f.home.weakWriteEtags = true;  // the target's write answers W/"eN", its listings "eN"
  Event master = timedEvent("weekly", "Weekly", kMonday, minutes(30));
  master.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=4"};
  f.work.userPut(SyncFixture::kWork, {master});
  f.work.userPut(SyncFixture::kWork, {timedEvent("a", "Standup", kMonday + hours(2))});
  CHECK(f.sync().created == 2);
  for (int i = 0; i < 3; ++i) {
    f.home.expireCursors();  // the copies listed again, with the listing's form of their ETags
    auto again = f.sync();
    CHECK(again.writes() == 0);
    CHECK(again.restored == 0);
  }
}

TEST_CASE("a crash between a write and its record: the next run recognises calgate's own write", "[sync][regression][crash]") {
  SyncFixture f;
  f.work.userPut(SyncFixture::kWork, {timedEvent("a", "Standup", kMonday)});
  f.sync();
  SyncOptions killed;
  killed.failpoint = [](std::string_view point) -> core::Result<void> {
    if (point == "after_write") return core::fail(core::ErrorCode::Unavailable, "killed after the PUT");
    return {};
  };
  // an update written, not recorded: the target shows calgate's content under an ETag it never saw
  f.work.userPut(SyncFixture::kWork, {timedEvent("a", "Standup (moved)", kMonday + hours(1))});
  f.restart(killed);
  REQUIRE_FALSE(f.trySync());
  REQUIRE(f.home.updates == 1);
  f.restart({});
  auto r = f.sync();
  CHECK(r.writes() == 0);  // no restore, no second update
  CHECK(f.home.updates == 1);
  // a create written, not recorded: recognised by its UID and content, not created again
  f.work.userPut(SyncFixture::kWork, {timedEvent("b", "Review", kMonday + hours(3))});
  f.restart(killed);
  REQUIRE_FALSE(f.trySync());
  REQUIRE(f.home.creates == 2);
  f.restart({});
  CHECK(f.sync().writes() == 0);
  CHECK(f.home.writes() == 3);
  CHECK(f.byTitle(f.home, SyncFixture::kHome).size() == 2);
  // and the copies are known: a later change updates them, once
  f.work.userPut(SyncFixture::kWork, {timedEvent("b", "Review (moved)", kMonday + hours(4))});
  CHECK(f.sync().updated == 1);
  CHECK(f.sync().writes() == 0);
}

TEST_CASE("a series copy deleted right after calgate wrote it is noticed, and comes back whole", "[sync][regression][series]") {
  SyncFixture f;
  f.home.omitShortLived = true;  // as Xandikos: created and deleted after the token: never reported
  Event master = timedEvent("weekly", "Weekly", kMonday, minutes(30));
  master.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=6"};
  Event moved = timedEvent("weekly", "Weekly (moved)", kMonday + days(7) + hours(3), minutes(30));
  moved.recurrenceId = model::ZonedTime{kMonday + days(7), "UTC"};
  Event cancelled = timedEvent("weekly", "Weekly", kMonday + days(14), minutes(30));
  cancelled.recurrenceId = model::ZonedTime{kMonday + days(14), "UTC"};
  cancelled.status = model::Status::Cancelled;
  f.work.userPut(SyncFixture::kWork, {master, moved, cancelled});
  CHECK(f.sync().created == 1);
  const auto copy = f.home.resources(SyncFixture::kHome);
  REQUIRE(copy.size() == 1);
  f.home.userDelete(SyncFixture::kHome, copy.front().front().id);  // right away

  auto r = f.sync();
  CHECK(r.respectedDeletions == 1);  // noticed: the copy calgate wrote after the last listing was checked
  CHECK(r.writes() == 0);
  CHECK(f.sync().writes() == 0);

  // the source changes: the copy comes back whole, the moved and the cancelled occurrence included
  master.title = "Weekly (renamed)";
  f.work.userPut(SyncFixture::kWork, {master, moved, cancelled});
  auto back = f.sync();
  CHECK(back.created == 1);
  auto copies = f.home.resources(SyncFixture::kHome);
  REQUIRE(copies.size() == 1);
  const auto& events = copies.front();
  CHECK(std::any_of(events.begin(), events.end(), [](const Event& e) { return e.title == "Weekly (moved)"; }));
  CHECK(std::any_of(events.begin(), events.end(), [&](const Event& e) {
    return e.recurrenceId && *e.recurrenceId == model::EventTime{model::ZonedTime{kMonday + days(14), "UTC"}} &&
           e.status == model::Status::Cancelled;
  }));
  CHECK(f.sync().writes() == 0);
}

TEST_CASE("a pair deleted and made again for the same calendars takes over its copies: no second copies",
          "[sync][regression][repair]") {
  SyncFixture f(sync::Direction::TwoWay);
  f.work.userPut(SyncFixture::kWork, {calgate::test::timedEvent("r1", "Review", sys_days{2026y / November / 24} + hours(9))});
  f.work.userPut(SyncFixture::kWork, {calgate::test::timedEvent("r2", "Planning", sys_days{2026y / November / 25} + hours(9))});
  f.sync();
  REQUIRE(f.home.resources(SyncFixture::kHome).size() == 2);
  const auto before = f.home.resources(SyncFixture::kHome);

  sync::PairStore pairs(f.t.db(), f.clock);
  auto old = pairs.get(f.pairId);
  REQUIRE(old);
  REQUIRE(pairs.remove(f.pairId));
  sync::NewPair again;
  again.userId = f.userId;
  again.sourceCalendarId = f.workCal.id;
  again.targetCalendarId = f.homeCal.id;
  again.direction = sync::Direction::TwoWay;
  auto made = pairs.create(again);
  REQUIRE(made);
  CHECK(made->id != old->id);
  CHECK(made->copySeed == old->copySeed);  // the old pair's copies are this one's
  f.pairId = made->id;
  auto report = f.sync();
  CHECK(report.created == 0);  // the copies were found, not written a second time
  const auto after = f.home.resources(SyncFixture::kHome);
  REQUIRE(after.size() == 2);
  for (std::size_t i = 0; i < after.size(); ++i) CHECK(after[i].front().uid == before[i].front().uid);
  CHECK(f.work.resources(SyncFixture::kWork).size() == 2);  // two-way: the old copies were not mirrored back
  f.work.userPut(SyncFixture::kWork, {calgate::test::timedEvent("r3", "Retro", sys_days{2026y / November / 26} + hours(9))});
  f.sync();
  CHECK(f.home.resources(SyncFixture::kHome).size() == 3);

  // a pair of other calendars starts its own copies
  sync::NewPair reverse = again;
  std::swap(reverse.sourceCalendarId, reverse.targetCalendarId);
  REQUIRE(pairs.remove(f.pairId));
  auto other = pairs.create(reverse);
  REQUIRE(other);
  CHECK(other->copySeed == other->id);
}

TEST_CASE("keyed fingerprints: an upgrade from plain SHA-256 rewrites no copy; unchanged copies are re-recorded keyed, "
          "changed ones written once",
          "[sync][keyed]") {
  SyncFixture f;
  f.work.userPut(SyncFixture::kWork, {timedEvent("a", "Salary review with Ada", kMonday, minutes(30))});
  f.work.userPut(SyncFixture::kWork, {timedEvent("b", "Dentist", kMonday + days(1), minutes(30))});
  REQUIRE(f.sync().created == 2);
  auto fingerprints = [&] {
    std::vector<std::string> out;
    REQUIRE(f.t.db().withSession([&](soci::session& sql) -> core::Result<void> {
      soci::rowset<std::string> rows = (sql.prepare << "SELECT content_sha256 FROM mappings WHERE state = 'synced' ORDER BY source_event_id");
      for (const auto& h : rows) out.push_back(h);
      return {};
    }));
    return out;
  };
  // before: plain SHA-256 (what an older calgate recorded)
  for (const auto& h : fingerprints()) CHECK(h.size() == 64);

  // the upgrade: the engine now has the vault's key
  SyncOptions keyed;
  keyed.hasher = std::make_shared<const policy::ContentHasher>(std::string(32, 'h'));
  f.restart(keyed);
  const auto writesBefore = f.writesToHome();
  CHECK(f.sync().writes() == 0);
  // a complete listing (an expired token, a restart of the source's server): still nothing written,
  // and the unchanged copies' fingerprints are keyed now
  f.work.expireCursors();
  f.home.expireCursors();
  CHECK(f.sync().writes() == 0);
  CHECK(f.writesToHome() == writesBefore);
  for (const auto& h : fingerprints()) {
    CHECK(h.rfind("k1:", 0) == 0);
    CHECK(h.size() == 67);
  }
  CHECK(f.sync().writes() == 0);
  // a real change is written once and recorded keyed
  f.work.userPut(SyncFixture::kWork, {timedEvent("b", "Dentist (moved)", kMonday + days(2), minutes(30))});
  CHECK(f.sync().updated == 1);
  CHECK(f.sync().writes() == 0);
  for (const auto& h : fingerprints()) CHECK(h.rfind("k1:", 0) == 0);
  // another key (the database moved to an installation with another vault): the fingerprints no
  // longer match, the target is found to hold exactly what calgate would write, and they are
  // re-recorded under the new key without a write
  const auto underFirst = fingerprints();
  SyncOptions other;
  other.hasher = std::make_shared<const policy::ContentHasher>(std::string(32, 'x'));
  f.restart(other);
  f.work.expireCursors();
  f.home.expireCursors();
  CHECK(f.sync().writes() == 0);
  CHECK(f.writesToHome() == writesBefore + 1);
  const auto underSecond = fingerprints();
  REQUIRE(underSecond.size() == underFirst.size());
  for (std::size_t i = 0; i < underFirst.size(); ++i) CHECK(underSecond[i] != underFirst[i]);
}
