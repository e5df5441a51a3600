// Sync engine scenarios between two FakeProviders over a real store: each asserts what the target
// holds and how many writes reached it.
#include "calgate/sync/failure_store.hpp"
#include "calgate/sync/skip_store.hpp"
#include "support/process.hpp"
#include "sync/sync_fixture.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include <algorithm>

using namespace calgate;
using namespace calgate::sync;
using namespace std::chrono;
using calgate::model::Event;
using calgate::test::allDayEvent;
using calgate::test::SyncFixture;
using calgate::test::timedEvent;

namespace {

const sys_seconds kMonday = sys_days(2026y / November / 23) + hours(9);  // two days after the fixture's "now"

std::string put(SyncFixture& f, Event e) { return f.work.userPut(SyncFixture::kWork, {std::move(e)}); }

}  // namespace

TEST_CASE("new events are copied once; a second run writes nothing", "[sync]") {
  SyncFixture f;
  put(f, timedEvent("a", "Standup", kMonday));
  put(f, timedEvent("b", "Review", kMonday + hours(2)));
  put(f, timedEvent("c", "Lunch", kMonday + hours(4)));
  auto r = f.sync();
  CHECK(r.created == 3);
  CHECK(f.home.creates == 3);
  CHECK(f.home.writes() == 3);
  auto copies = f.byTitle(f.home, SyncFixture::kHome);
  REQUIRE(copies.size() == 3);
  const auto& standup = copies["Standup"].front();
  CHECK(standup.description == "details of Standup");
  CHECK(std::get<model::ZonedTime>(standup.start).instant == kMonday);
  REQUIRE(standup.origin);
  CHECK(standup.origin->pairId == f.pairId);
  CHECK(standup.uid != "a");  // never the source's UID

  auto again = f.sync();
  CHECK(again.writes() == 0);
  CHECK(f.home.writes() == 3);
  // the target's pull now shows calgate's own copies: recognised, not taken for a user's edit
  auto third = f.sync();
  CHECK(third.writes() == 0);
}

TEST_CASE("a changed source updates its copy only", "[sync]") {
  SyncFixture f;
  put(f, timedEvent("a", "Standup", kMonday));
  put(f, timedEvent("b", "Review", kMonday + hours(2)));
  f.sync();
  put(f, timedEvent("a", "Standup (moved)", kMonday + minutes(30)));
  auto r = f.sync();
  CHECK(r.updated == 1);
  CHECK(f.home.updates == 1);
  CHECK(f.home.writes() == 3);
  auto copies = f.byTitle(f.home, SyncFixture::kHome);
  REQUIRE(copies.count("Standup (moved)"));
  CHECK(std::get<model::ZonedTime>(copies["Standup (moved)"].front().start).instant == kMonday + minutes(30));
  CHECK(copies.size() == 2);
}

TEST_CASE("a source deletion deletes the copy, from incremental and from complete listings", "[sync]") {
  SyncFixture f;
  const auto a = put(f, timedEvent("a", "Standup", kMonday));
  const auto b = put(f, timedEvent("b", "Review", kMonday + hours(2)));
  put(f, timedEvent("c", "Lunch", kMonday + hours(4)));
  f.sync();
  f.work.userDelete(SyncFixture::kWork, a);
  auto r = f.sync();
  CHECK(r.deleted == 1);
  CHECK(f.home.removes == 1);
  CHECK(f.byTitle(f.home, SyncFixture::kHome).size() == 2);

  // a cursor the server forgot: the next pull is a complete listing, from which b's absence shows
  f.work.userDelete(SyncFixture::kWork, b);
  f.work.expireCursors();
  auto r2 = f.sync();
  CHECK(r2.deleted == 1);
  CHECK(f.home.removes == 2);
  auto copies = f.byTitle(f.home, SyncFixture::kHome);
  CHECK(copies.size() == 1);
  CHECK(copies.count("Lunch"));
  CHECK(f.home.creates == 3);
}

TEST_CASE("unreadable source events are never taken for deletions", "[sync]") {
  SyncFixture f;
  put(f, timedEvent("a", "Standup", kMonday));
  f.sync();
  // an unparseable event in a complete listing stays: the fake reports it through `unreadable`
  f.work.unreadable.insert(std::string(SyncFixture::kWork) + "/a");
  f.work.expireCursors();
  auto r = f.sync();
  CHECK(r.deleted == 0);
  CHECK(f.home.removes == 0);
  CHECK(f.byTitle(f.home, SyncFixture::kHome).size() == 1);
  // ...and shown: counted, kept with its reason, audited and logged once per version
  CHECK(r.skippedResources == 1);
  SkipStore skips(f.t.db(), f.clock);
  auto listed = skips.list(f.pairId);
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().sourceEventId == std::string(SyncFixture::kWork) + "/a");
  CHECK(listed->front().reason == test::FakeProvider::kUnreadableReason);
  auto audited = [&] {
    auto entries = f.auditEntries();
    return std::count_if(entries.begin(), entries.end(), [](const auto& e) { return e.entry.action == "sync.skip_resource"; });
  };
  CHECK(audited() == 1);
  f.work.expireCursors();
  CHECK(f.sync().skippedResources == 1);
  CHECK(audited() == 1);  // the same version: not again
  CHECK(*skips.count(f.pairId) == 1);
  // readable again: no longer skipped
  f.work.unreadable.clear();
  put(f, timedEvent("a", "Standup (moved)", kMonday + hours(1)));
  CHECK(f.sync().updated == 1);
  CHECK(*skips.count(f.pairId) == 0);
}

TEST_CASE("an occurrence without its series is copied as an event of its own", "[sync][recurrence]") {
  SyncFixture f;
  Event lone = timedEvent("invite", "One session", kMonday + hours(6));
  lone.recurrenceId = model::ZonedTime{kMonday + hours(5), "UTC"};  // moved by its organiser
  f.work.userPut(SyncFixture::kWork, {lone});
  auto r = f.sync();
  CHECK(r.created == 1);
  CHECK(r.denied == 0);
  auto copies = f.home.resources(SyncFixture::kHome);
  REQUIRE(copies.size() == 1);
  REQUIRE(copies.front().size() == 1);
  CHECK_FALSE(copies.front().front().recurrenceId);  // a single event in the target
  CHECK(std::get<model::ZonedTime>(copies.front().front().start).instant == kMonday + hours(6));
  CHECK(f.sync().writes() == 0);
  // the organiser cancels that session: the copy goes
  lone.status = model::Status::Cancelled;
  f.work.userPut(SyncFixture::kWork, {lone});
  CHECK(f.sync().deleted == 1);
  CHECK(f.home.resources(SyncFixture::kHome).empty());
}

TEST_CASE("all-day events stay all-day, zoned events keep their zone and instant", "[sync]") {
  SyncFixture f;
  put(f, allDayEvent("holiday", "Holiday", 2026y / December / 24, 3));
  put(f, timedEvent("ny", "New York call", sys_days(2026y / December / 1) + hours(14), minutes(45), "America/New_York"));
  // a wall-clock time on the day Europe/Berlin leaves summer time
  put(f, timedEvent("dst", "DST edge", sys_days(2026y / October / 25) + hours(0) + minutes(30), minutes(60),
                    "Europe/Berlin"));
  f.sync();
  CHECK(f.home.creates == 3);
  auto copies = f.byTitle(f.home, SyncFixture::kHome);
  const auto& holiday = copies["Holiday"].front();
  REQUIRE(holiday.allDay());
  CHECK(std::get<model::Date>(holiday.start).day == 2026y / December / 24);
  CHECK(std::get<model::Date>(holiday.end).day == 2026y / December / 27);
  const auto& ny = copies["New York call"].front();
  CHECK(std::get<model::ZonedTime>(ny.start).zone == "America/New_York");
  CHECK(std::get<model::ZonedTime>(ny.start).instant == sys_days(2026y / December / 1) + hours(14));
  CHECK(std::get<model::ZonedTime>(ny.end).instant == sys_days(2026y / December / 1) + hours(14) + minutes(45));
  const auto& dst = copies["DST edge"].front();
  CHECK(std::get<model::ZonedTime>(dst.start).instant == sys_days(2026y / October / 25) + minutes(30));
  CHECK(f.sync().writes() == 0);
}

TEST_CASE("a series with a moved and a cancelled occurrence is mirrored as a series", "[sync][recurrence]") {
  SyncFixture f;
  Event master = timedEvent("weekly", "Weekly 1:1", kMonday, minutes(30), "Europe/Berlin");
  master.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=6"};
  Event moved = timedEvent("weekly", "Weekly 1:1 (moved)", kMonday + days(7) + hours(3), minutes(30), "Europe/Berlin");
  moved.recurrenceId = model::ZonedTime{kMonday + days(7), "Europe/Berlin"};
  Event cancelled = timedEvent("weekly", "Weekly 1:1", kMonday + days(14), minutes(30), "Europe/Berlin");
  cancelled.recurrenceId = model::ZonedTime{kMonday + days(14), "Europe/Berlin"};
  cancelled.status = model::Status::Cancelled;
  const auto id = f.work.userPut(SyncFixture::kWork, {master, moved, cancelled});
  auto r = f.sync();
  // the series, then its moved occurrence joins it, then the cancelled one is removed from it
  CHECK(f.home.creates == 1);
  CHECK(f.home.updates == 1);
  CHECK(f.home.removes == 1);
  CHECK(r.writes() == 3);
  auto resources = f.home.resources(SyncFixture::kHome);
  REQUIRE(resources.size() == 1);
  const auto& copy = resources.front();
  REQUIRE(copy.size() == 3);
  CHECK(copy[0].recurrence == std::vector<std::string>{"RRULE:FREQ=WEEKLY;COUNT=6"});
  CHECK_FALSE(copy[0].recurrenceId);
  CHECK(copy[1].title == "Weekly 1:1 (moved)");
  CHECK(std::get<model::ZonedTime>(copy[1].start).instant == kMonday + days(7) + hours(3));
  CHECK(copy[2].status == model::Status::Cancelled);
  CHECK(copy[1].uid == copy[0].uid);
  CHECK(f.sync().writes() == 0);
  CHECK(f.sync().writes() == 0);

  // the moved occurrence is moved back (its exception withdrawn): the copy is rebuilt without it
  f.work.userPut(SyncFixture::kWork, {master, cancelled});
  auto r2 = f.sync();
  CHECK(r2.writes() == 3);  // remove the copy, create the series, cancel the occurrence
  resources = f.home.resources(SyncFixture::kHome);
  REQUIRE(resources.size() == 1);
  REQUIRE(resources.front().size() == 2);
  CHECK(resources.front()[1].status == model::Status::Cancelled);
  CHECK(f.sync().writes() == 0);

  // the whole series is deleted
  f.work.userDelete(SyncFixture::kWork, id);
  CHECK(f.sync().deleted == 1);
  CHECK(f.home.resources(SyncFixture::kHome).empty());
}

TEST_CASE("the sync window bounds what is copied, and a copy moved out of it goes", "[sync][window]") {
  SyncFixture f;  // now = 2026-11-21 09:00 UTC; window 90 days back, 365 ahead
  const sys_seconds now = sys_days(2026y / November / 21) + hours(9);
  put(f, timedEvent("old", "Ended just before", now - days(90) - hours(2), minutes(60)));
  put(f, timedEvent("edge-past", "Ends just inside", now - days(90) - minutes(30), minutes(60)));
  put(f, timedEvent("edge-future", "Starts just inside", now + days(365) - minutes(1), minutes(60)));
  put(f, timedEvent("far", "Starts at the far edge", now + days(365), minutes(60)));
  Event series = timedEvent("old-series", "Old weekly", now - days(400), minutes(30));
  series.recurrence = {"RRULE:FREQ=WEEKLY"};
  put(f, series);
  f.sync();
  auto copies = f.byTitle(f.home, SyncFixture::kHome);
  CHECK(copies.size() == 3);
  CHECK(copies.count("Ends just inside"));
  CHECK(copies.count("Starts just inside"));
  CHECK(copies.count("Old weekly"));  // a series that started long ago still reaches into the window
  CHECK(f.home.creates == 3);

  put(f, timedEvent("edge-future", "Starts just inside", now + days(400), minutes(60)));
  auto r = f.sync();
  CHECK(r.deleted == 1);
  CHECK(f.home.removes == 1);
  CHECK(f.byTitle(f.home, SyncFixture::kHome).size() == 2);

  // time passes: the event that ended just inside the window ages out, and after a complete listing
  // its copy stays (it is old, not deleted); the one at the far edge comes into the window
  f.clock.advance(days(2));
  f.work.expireCursors();
  auto later = f.sync();
  CHECK(later.created == 1);
  CHECK(later.deleted == 0);
  copies = f.byTitle(f.home, SyncFixture::kHome);
  CHECK(copies.count("Ends just inside"));
  CHECK(copies.count("Starts at the far edge"));
}

TEST_CASE("changing a pair's rules re-renders its copies; an org policy applies to the source's domain", "[sync]") {
  SyncFixture f;
  put(f, timedEvent("a", "Board meeting", kMonday));
  put(f, timedEvent("b", "Interview", kMonday + hours(2)));
  f.sync();
  PairStore pairs(f.t.db(), f.clock);
  policy::PairRules rules;
  rules.mode = policy::PrivacyMode::Private;
  rules.label = "Work";
  REQUIRE(pairs.setRules(f.pairId, rules));
  auto r = f.sync();
  CHECK(r.updated == 2);
  CHECK(f.home.updates == 2);
  for (const auto& res : f.home.resources(SyncFixture::kHome)) {
    CHECK(res.front().title == "Work");
    CHECK(res.front().description.empty());
    CHECK(res.front().location.empty());
  }
  CHECK(f.sync().writes() == 0);

  // back to full details, but the organisation (DNSSEC-proven) keeps work.example private
  REQUIRE(pairs.setRules(f.pairId, policy::PairRules{}));
  policy::OrgPolicy org = policy::OrgPolicy::none("work.example");
  org.level = policy::OrgLevel::Private;
  org.validation = policy::Validation::Secure;
  f.orgs.byDomain["work.example"] = org;
  auto r2 = f.sync();
  CHECK(r2.updated == 2);  // the label changes from "Work" to the default
  for (const auto& res : f.home.resources(SyncFixture::kHome)) CHECK(res.front().title == "Busy");
  auto entries = f.auditEntries();
  const bool reasoned = std::any_of(entries.begin(), entries.end(), [](const auto& e) {
    return e.entry.action == "sync.write" &&
           std::any_of(e.entry.reasons.begin(), e.entry.reasons.end(),
                       [](const std::string& s) { return s.find("work.example") != std::string::npos; });
  });
  CHECK(reasoned);
}

TEST_CASE("an organisation that blocks the target removes existing copies", "[sync]") {
  SyncFixture f;
  put(f, timedEvent("a", "Board meeting", kMonday));
  f.sync();
  policy::OrgPolicy org = policy::OrgPolicy::none("work.example");
  org.level = policy::OrgLevel::Block;
  org.validation = policy::Validation::Secure;
  f.orgs.byDomain["work.example"] = org;
  f.work.expireCursors();  // the policy is applied on the next look at the event
  auto r = f.sync();
  CHECK(r.deleted == 1);
  CHECK(f.home.resources(SyncFixture::kHome).empty());
  CHECK(f.sync().writes() == 0);
}

TEST_CASE("deleting a pair stops it and removes its mappings; the copies stay", "[sync]") {
  SyncFixture f;
  put(f, timedEvent("a", "Standup", kMonday));
  f.sync();
  PairStore pairs(f.t.db(), f.clock);
  REQUIRE(pairs.remove(f.pairId));
  CHECK(f.home.resources(SyncFixture::kHome).size() == 1);
  MappingStore mappings(f.t.db(), f.clock);
  CHECK(mappings.load(f.pairId, f.workCal.id)->empty());
  auto r = f.trySync();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == core::ErrorCode::NotFound);
  CHECK(f.home.writes() == 1);
}

TEST_CASE("a copy the user changed is restored; a copy the user deleted stays deleted", "[sync]") {
  SyncFixture f;
  put(f, timedEvent("a", "Standup", kMonday));
  put(f, timedEvent("b", "Review", kMonday + hours(2)));
  f.sync();
  auto copies = f.byTitle(f.home, SyncFixture::kHome);
  Event edited = copies["Standup"].front();
  edited.title = "my own title";
  f.home.userPut(SyncFixture::kHome, {edited});
  auto r = f.sync();
  CHECK(r.restored == 1);
  CHECK(f.home.updates == 1);
  CHECK(f.byTitle(f.home, SyncFixture::kHome).count("Standup"));
  CHECK(f.sync().writes() == 0);

  // deleted by the user: respected while the source is unchanged...
  const std::string reviewCopy = copies["Review"].front().id;
  f.home.userDelete(SyncFixture::kHome, reviewCopy);
  auto r2 = f.sync();
  CHECK(r2.writes() == 0);
  CHECK(r2.respectedDeletions == 1);
  CHECK(f.sync().writes() == 0);
  CHECK_FALSE(f.byTitle(f.home, SyncFixture::kHome).count("Review"));
  // ...and a change of the source brings it back
  put(f, timedEvent("b", "Review v2", kMonday + hours(2)));
  CHECK(f.sync().created == 1);
  CHECK(f.byTitle(f.home, SyncFixture::kHome).count("Review v2"));
}

TEST_CASE("with restore, a copy the user deleted comes back on the next sync", "[sync]") {
  SyncOptions options;
  options.restoreDeletedCopies = true;
  SyncFixture f(Direction::OneWay, options);
  put(f, timedEvent("a", "Standup", kMonday));
  f.sync();
  const std::string copy = f.home.resources(SyncFixture::kHome).front().front().id;
  f.home.userDelete(SyncFixture::kHome, copy);
  auto r = f.sync();
  CHECK(r.created + r.restored == 1);
  CHECK(f.home.creates == 2);
  CHECK(f.byTitle(f.home, SyncFixture::kHome).count("Standup"));
  CHECK(f.sync().writes() == 0);
}

TEST_CASE("the mass-delete guard pauses the pair until a user confirms", "[sync][guard]") {
  SyncFixture f;
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(put(f, timedEvent("e" + std::to_string(i), "Event " + std::to_string(i), kMonday + hours(i))));
  f.sync();
  REQUIRE(f.home.creates == 20);
  for (int i = 0; i < 15; ++i) f.work.userDelete(SyncFixture::kWork, ids[static_cast<std::size_t>(i)]);
  auto r = f.sync();
  CHECK(r.paused);
  CHECK(f.home.removes == 0);
  CHECK(f.home.resources(SyncFixture::kHome).size() == 20);
  PairStore pairs(f.t.db(), f.clock);
  auto paused = pairs.get(f.pairId);
  CHECK(paused->needsConfirmation);
  CHECK(paused->confirmationReason.find("15 of 20") != std::string::npos);
  auto entries = f.auditEntries();
  CHECK(std::any_of(entries.begin(), entries.end(), [](const auto& e) { return e.entry.action == "sync.guard"; }));
  // while paused, runs delete nothing (and write nothing else)
  CHECK(f.sync().paused);
  CHECK(f.home.writes() == 20);

  // the operator sees why and confirms with calgate-admin
  const std::map<std::string, std::string> env = {{"CALGATE_DATABASE_URL", f.t.url()}};
  auto listed = test::run({CALGATE_ADMIN_BINARY, "pairs", "list"}, env, std::filesystem::temp_directory_path());
  CHECK(listed.exitCode == 0);
  CHECK_THAT(listed.out, Catch::Contains(f.pairId) && Catch::Contains("needs_confirmation") &&
                             Catch::Contains("15 of 20"));
  CHECK_THAT(listed.out, Catch::Contains("held deletions " + deletionsDigest(pairs.get(f.pairId)->guardDeletions)));
  // a digest of other deletions is refused: the pair stays paused
  auto stale = test::run({CALGATE_ADMIN_BINARY, "pairs", "confirm", f.pairId, "--deletions", std::string(64, '0')}, env,
                         std::filesystem::temp_directory_path());
  CHECK(stale.exitCode == 2);
  CHECK_THAT(stale.err, Catch::Contains("not the ones confirmed"));
  CHECK(pairs.get(f.pairId)->needsConfirmation);
  auto confirmed = test::run({CALGATE_ADMIN_BINARY, "pairs", "confirm", f.pairId, "--deletions",
                              deletionsDigest(pairs.get(f.pairId)->guardDeletions)},
                             env, std::filesystem::temp_directory_path());
  INFO(confirmed.err);
  CHECK(confirmed.exitCode == 0);
  auto twice = test::run({CALGATE_ADMIN_BINARY, "pairs", "confirm", f.pairId}, env,
                         std::filesystem::temp_directory_path());
  CHECK(twice.exitCode == 2);
  CHECK_THAT(twice.err, Catch::Contains("not waiting for a confirmation"));
  auto verified = test::run({CALGATE_ADMIN_BINARY, "audit", "verify"}, env, std::filesystem::temp_directory_path());
  CHECK(verified.exitCode == 0);
  CHECK_THAT(verified.out, Catch::Contains("audit log intact"));
  auto r2 = f.sync();
  CHECK(r2.deleted == 15);
  CHECK(f.home.removes == 15);
  CHECK(f.home.resources(SyncFixture::kHome).size() == 5);
  CHECK_FALSE(pairs.get(f.pairId)->deletionsConfirmedAt);  // used up

  // deleting fewer than the minimum never trips it
  for (int i = 15; i < 20; ++i) f.work.userDelete(SyncFixture::kWork, ids[static_cast<std::size_t>(i)]);
  auto r3 = f.sync();
  CHECK_FALSE(r3.paused);
  CHECK(r3.deleted == 5);
}

TEST_CASE("soft-deleted mappings are purged after 30 days", "[sync]") {
  SyncFixture f;
  const auto a = put(f, timedEvent("a", "Standup", kMonday));
  f.sync();
  f.work.userDelete(SyncFixture::kWork, a);
  f.sync();
  MappingStore mappings(f.t.db(), f.clock);
  CHECK(*mappings.purgeDeletedBefore(f.clock.nowUnixSeconds() - 30 * 86400) == 0);
  f.clock.advance(days(31));
  CHECK(*mappings.purgeDeletedBefore(f.clock.nowUnixSeconds() - 30 * 86400) == 1);
  CHECK(mappings.load(f.pairId, f.workCal.id)->empty());
}

TEST_CASE("the audit log records each decision and its chain verifies", "[sync][audit]") {
  SyncFixture f;
  put(f, timedEvent("a", "Standup", kMonday));
  Event bad = timedEvent("b", "Bad zone", kMonday, minutes(30), "Mars/Olympus_Mons");
  put(f, bad);
  f.sync();
  auto entries = f.auditEntries();
  auto count = [&](const std::string& action) {
    return std::count_if(entries.begin(), entries.end(), [&](const auto& e) { return e.entry.action == action; });
  };
  CHECK(count("sync.write") == 1);
  CHECK(count("sync.deny") == 1);
  CHECK(count("sync.run") == 1);
  audit::AuditLog log(f.t.db(), f.clock);
  CHECK(*log.verify() == entries.size());
  // tampering breaks the chain
  REQUIRE(f.t.db().withSession([](soci::session& sql) -> core::Result<void> {
    sql << "UPDATE audit_log SET decision = 'create' WHERE action = 'sync.deny'";
    return {};
  }));
  CHECK_FALSE(log.verify());
}

TEST_CASE("a source change that does not change the copy writes nothing and is audited as unchanged", "[sync][audit]") {
  SyncFixture f;
  Event e = timedEvent("a", "Standup", kMonday);
  put(f, e);
  f.sync();
  e.organizer = "someone-else@work.example";  // never copied: the approved write stays the same
  e.sequence = 3;
  put(f, e);
  auto r = f.sync();
  CHECK(r.writes() == 0);
  CHECK(r.unchanged == 1);
  CHECK(f.home.writes() == 1);
  auto entries = f.auditEntries();
  auto skip = std::find_if(entries.begin(), entries.end(), [](const auto& x) { return x.entry.action == "sync.skip"; });
  REQUIRE(skip != entries.end());
  CHECK(skip->entry.decision == "unchanged");
  CHECK_FALSE(skip->entry.reasons.empty());
  CHECK(f.sync().writes() == 0);
}

TEST_CASE("a cursor the server keeps failing on is abandoned for a complete listing", "[sync]") {
  SyncFixture f;
  put(f, timedEvent("a", "Standup", kMonday));
  f.sync();
  f.work.failCursorPulls = true;  // e.g. Xandikos answers a token it no longer knows with a 500
  put(f, timedEvent("b", "Review", kMonday + hours(2)));
  auto failed = f.trySync();
  REQUIRE_FALSE(failed);
  CHECK(failed.error().code == core::ErrorCode::Unavailable);
  PairStore pairs(f.t.db(), f.clock);
  CHECK_THAT(pairs.get(f.pairId)->lastError, Catch::Contains("pull of"));
  // the kind is kept with the message: the engine acts on it, never on the text
  CHECK(pairs.get(f.pairId)->lastErrorCause == core::Cause::PullFailed);
  CHECK(pairs.get(f.pairId)->lastErrorCode == core::ErrorCode::Unavailable);
  auto recovered = f.sync();  // starts over without the cursor
  CHECK(recovered.created == 1);
  CHECK(f.home.creates == 2);
  CHECK(pairs.get(f.pairId)->lastError.empty());
  CHECK(pairs.get(f.pairId)->lastErrorCause == core::Cause::None);
  CHECK_FALSE(pairs.get(f.pairId)->lastErrorCode);
  f.work.failCursorPulls = false;
  CHECK(f.sync().writes() == 0);
}

TEST_CASE("only a failed pull starts the next run over, whatever the last error says", "[sync]") {
  SyncFixture f;
  put(f, timedEvent("a", "Standup", kMonday));
  f.sync();
  f.work.failCursorPulls = true;  // a complete listing would succeed, a cursor pull fails
  PairStore pairs(f.t.db(), f.clock);
  // A failure that was not a pull, whose text looks like one: the cursor is kept (and fails).
  REQUIRE(pairs.recordFailure(f.pairId, core::Error{core::ErrorCode::Unavailable, "pull of cal_x: a lookalike",
                                                    std::nullopt}));
  REQUIRE(pairs.get(f.pairId)->lastErrorCause == core::Cause::None);
  CHECK_FALSE(f.trySync());
  // A failed pull, whatever its text says: the next run lists everything and recovers.
  REQUIRE(pairs.recordFailure(f.pairId, core::Error{core::ErrorCode::Unavailable, "server said no", std::nullopt,
                                                    core::Cause::PullFailed}));
  CHECK(f.trySync());
}

TEST_CASE("an organisation policy that changes re-renders; one that only flips proof under a pin does not", "[sync]") {
  SyncFixture f;
  put(f, timedEvent("a", "Board meeting", kMonday));
  f.sync();
  const auto listings = f.work.completeListings;
  CHECK(f.sync().writes() == 0);
  CHECK(f.work.completeListings == listings);  // incremental

  policy::OrgPolicy org = policy::OrgPolicy::none("work.example");
  org.level = policy::OrgLevel::Private;
  org.validation = policy::Validation::Secure;
  f.orgs.byDomain["work.example"] = org;
  CHECK(f.sync().updated == 1);  // a new policy: everything listed and re-rendered
  CHECK(f.work.completeListings == listings + 1);

  // today's lookup could not be proven, but the earlier secure record is pinned: same copies,
  // no complete listing
  org.validation = policy::Validation::Indeterminate;
  org.pinned = true;
  f.orgs.byDomain["work.example"] = org;
  CHECK(f.sync().writes() == 0);
  CHECK(f.work.completeListings == listings + 1);
}

TEST_CASE("one event the target refuses never stalls the pair", "[sync][failing]") {
  SyncFixture f;
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    ids.push_back(put(f, timedEvent("e" + std::to_string(i), "Event " + std::to_string(i), kMonday + hours(i))));
  }
  f.home.refusedTitles = {"Event 7"};  // the target answers 403 for this one
  auto r = f.sync();
  CHECK(r.created == 49);
  CHECK(r.failedEvents == std::vector<std::string>{ids[7]});
  CHECK(f.home.resources(SyncFixture::kHome).size() == 49);
  FailureStore failures(f.t.db(), f.clock);
  auto failing = failures.list(f.pairId);
  REQUIRE(failing);
  REQUIRE(failing->size() == 1);
  CHECK(failing->front().sourceEventId == ids[7]);
  CHECK(failing->front().reason == "PUT event: HTTP 403");
  CHECK(failing->front().attempts == 1);
  auto entries = f.auditEntries();
  CHECK(std::count_if(entries.begin(), entries.end(), [](const auto& e) { return e.entry.action == "sync.write_failed"; }) == 1);

  // the run went on and saved its cursors: deletions still propagate, nothing is retried before its time
  f.work.userDelete(SyncFixture::kWork, ids[3]);
  auto next = f.sync();
  CHECK(next.deleted == 1);
  CHECK(next.failedEvents.empty());
  CHECK(f.home.resources(SyncFixture::kHome).size() == 48);
  // due again after the backoff: tried, still refused (two attempts), the others untouched
  f.clock.advance(std::chrono::seconds(61));
  auto retried = f.sync();
  CHECK(retried.failedEvents == std::vector<std::string>{ids[7]});
  CHECK(retried.writes() == 0);
  CHECK(failures.list(f.pairId)->front().attempts == 2);
  CHECK(failures.list(f.pairId)->front().nextRetryAt == f.clock.nowUnixSeconds() + 120);
  // the target takes it now: written, no longer failing
  f.home.refusedTitles.clear();
  f.clock.advance(std::chrono::seconds(121));
  auto healed = f.sync();
  CHECK(healed.created == 1);
  CHECK(*failures.count(f.pairId) == 0);
  CHECK(f.home.resources(SyncFixture::kHome).size() == 49);
  CHECK(f.sync().writes() == 0);
}

TEST_CASE("a withdrawn lone occurrence takes its copy with it", "[sync][recurrence]") {
  SyncFixture f;
  Event a = timedEvent("invite", "Session A", kMonday + hours(6));
  a.recurrenceId = model::ZonedTime{kMonday + hours(6), "UTC"};
  Event b = timedEvent("invite", "Session B", kMonday + days(7) + hours(6));
  b.recurrenceId = model::ZonedTime{kMonday + days(7) + hours(6), "UTC"};
  f.work.userPut(SyncFixture::kWork, {a, b});
  CHECK(f.sync().created == 2);
  f.work.userPut(SyncFixture::kWork, {a});  // invited to A only now
  auto r = f.sync();
  CHECK(r.deleted == 1);
  auto copies = f.byTitle(f.home, SyncFixture::kHome);
  CHECK(copies.size() == 1);
  CHECK(copies.count("Session A"));
  f.work.expireCursors();
  CHECK(f.sync().writes() == 0);
}

TEST_CASE("a suspended user's pairs do not run, and run again once reinstated", "[sync][suspend]") {
  SyncFixture f;
  put(f, timedEvent("a", "Standup", kMonday));
  accounts::UserStore users(f.t.db(), f.clock);
  REQUIRE(users.setDisabled("alice@work.example", true));
  PairStore pairs(f.t.db(), f.clock);
  CHECK(pairs.get(f.pairId)->ownerSuspended);
  CHECK(pairs.listRunnable()->empty());  // the scheduler queues nothing for it
  auto r = f.sync();                     // a job queued before the suspension
  CHECK(r.skipped);
  CHECK(f.home.writes() == 0);
  REQUIRE(users.setDisabled("alice@work.example", false));
  CHECK(pairs.listRunnable()->size() == 1);
  CHECK(f.sync().created == 1);
  CHECK(users.setDisabled("nobody@work.example", true).error().code == core::ErrorCode::NotFound);
}
