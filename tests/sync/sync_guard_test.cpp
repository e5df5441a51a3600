// The mass-delete guard on every path a plan can delete by: sources that vanish or are cancelled,
// one target listing that would flip every copy to "deleted by the user", confirmations bound to
// the deletions shown (and not spent by a failed run), and deletions the policy requires, which
// run even while the pair waits. Every run goes through SyncFixture::sync(): previewed first.
#include "sync/sync_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace calgate;
using namespace calgate::sync;
using namespace std::chrono;
using calgate::test::SyncFixture;
using calgate::model::Event;
using calgate::test::timedEvent;

namespace {

const sys_seconds kMonday = sys_days(2026y / November / 23) + hours(9);

/// A fixture holding 20 synced copies; returns the source ids.
std::vector<std::string> twenty(SyncFixture& f) {
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back(f.work.userPut(SyncFixture::kWork, {timedEvent("e" + std::to_string(i), "Event " + std::to_string(i),
                                                                 kMonday + hours(i))}));
  }
  REQUIRE(f.sync().created == 20);
  return ids;
}

SyncPair pairOf(SyncFixture& f) {
  auto p = PairStore(f.t.db(), f.clock).get(f.pairId);
  REQUIRE(p);
  return *p;
}

std::size_t auditCount(SyncFixture& f, const std::string& action, const std::string& decision) {
  auto entries = f.auditEntries();
  return static_cast<std::size_t>(std::count_if(entries.begin(), entries.end(), [&](const auto& e) {
    return e.entry.action == action && e.entry.decision == decision;
  }));
}

}  // namespace

TEST_CASE("guard: cancelled masters count like vanished sources", "[sync][guard]") {
  SyncFixture f;
  twenty(f);
  for (int i = 0; i < 15; ++i) {
    auto e = timedEvent("e" + std::to_string(i), "Event " + std::to_string(i), kMonday + hours(i));
    e.status = model::Status::Cancelled;
    f.work.userPut(SyncFixture::kWork, {e});
  }
  auto r = f.sync();
  CHECK(r.paused);
  CHECK(f.home.removes == 0);
  CHECK(pairOf(f).confirmationReason.find("15 of 20") != std::string::npos);
  CHECK(pairOf(f).guardDeletions.size() == 15);
  REQUIRE(PairStore(f.t.db(), f.clock).confirmDeletions(f.pairId));
  CHECK(f.sync().deleted == 15);
  CHECK(f.home.resources(SyncFixture::kHome).size() == 5);
}

TEST_CASE("guard: one empty target listing flips nothing while it holds, and the pair resumes by itself", "[sync][guard]") {
  SyncFixture f;
  twenty(f);
  f.home.emptyListings = true;  // the target answers "nothing here" once
  f.home.expireCursors();
  auto r = f.sync();
  CHECK(r.paused);
  CHECK(r.respectedDeletions == 0);
  CHECK(auditCount(f, "sync.respect_deletion", "kept_deleted") == 0);
  auto counts = MappingStore(f.t.db(), f.clock).countByState(f.pairId);
  CHECK(counts->synced == 20);  // not one mapping flipped to "deleted by the user"
  CHECK(pairOf(f).needsConfirmation);

  f.home.emptyListings = false;  // the glitch is over
  auto next = f.sync();
  CHECK_FALSE(next.paused);
  CHECK(next.writes() == 0);
  CHECK_FALSE(pairOf(f).needsConfirmation);
  CHECK(auditCount(f, "sync.guard", "resumed") == 1);
  CHECK(f.home.resources(SyncFixture::kHome).size() == 20);
}

TEST_CASE("guard: a user deleting most copies in the target is held too", "[sync][guard]") {
  SyncFixture f;
  twenty(f);
  auto mappings = MappingStore(f.t.db(), f.clock).load(f.pairId, f.workCal.id);
  REQUIRE(mappings->size() == 20);
  for (std::size_t i = 0; i < 12; ++i) f.home.userDelete(SyncFixture::kHome, (*mappings)[i].targetEventId);
  auto r = f.sync();
  CHECK(r.paused);
  CHECK(pairOf(f).guardDeletions.size() == 12);
  REQUIRE(PairStore(f.t.db(), f.clock).confirmDeletions(f.pairId));
  auto confirmed = f.sync();
  CHECK(confirmed.respectedDeletions == 12);
  CHECK(confirmed.writes() == 0);  // respected: not recreated
  // named for what happened: kept deleted, not "deleted" (the source is there) nor "denied"
  auto counts = MappingStore(f.t.db(), f.clock).countByState(f.pairId);
  REQUIRE(counts);
  CHECK(counts->keptDeleted == 12);
  CHECK(counts->deleted == 0);
  CHECK(counts->denied == 0);
  CHECK(counts->synced == 8);
}

TEST_CASE("guard: a confirmation is bound to the deletions it was given for", "[sync][guard]") {
  SyncFixture f;
  auto ids = twenty(f);
  for (int i = 0; i < 15; ++i) f.work.userDelete(SyncFixture::kWork, ids[static_cast<std::size_t>(i)]);
  REQUIRE(f.sync().paused);
  PairStore pairs(f.t.db(), f.clock);
  const std::string shown = deletionsDigest(pairOf(f).guardDeletions);
  REQUIRE(shown.size() == 64);

  // the source changes again before anyone confirms: the next run holds other deletions
  f.work.userDelete(SyncFixture::kWork, ids[15]);
  REQUIRE(f.sync().paused);
  CHECK(pairOf(f).confirmationReason.find("16 of 20") != std::string::npos);
  auto stale = pairs.confirmDeletions(f.pairId, shown);
  REQUIRE_FALSE(stale);
  CHECK(stale.error().code == core::ErrorCode::Conflict);
  CHECK(pairOf(f).needsConfirmation);
  const std::string now = deletionsDigest(pairOf(f).guardDeletions);
  CHECK(now != shown);
  REQUIRE(pairs.confirmDeletions(f.pairId, now));

  // confirmed 16; one more deletion before the run: 17 are not covered, the pair pauses again
  f.work.userDelete(SyncFixture::kWork, ids[16]);
  auto r = f.sync();
  CHECK(r.paused);
  CHECK(f.home.removes == 0);
  CHECK(pairOf(f).confirmedDeletions.empty());
  REQUIRE(pairs.confirmDeletions(f.pairId));  // body-less: what it holds now
  CHECK(f.sync().deleted == 17);
  CHECK(f.home.resources(SyncFixture::kHome).size() == 3);
  CHECK_FALSE(pairOf(f).deletionsConfirmedAt);
  CHECK(pairOf(f).confirmedDeletions.empty());
  CHECK(auditCount(f, "sync.guard", "paused") == 3);
}

TEST_CASE("guard: a failed run does not spend the confirmation", "[sync][guard]") {
  SyncFixture f;
  auto ids = twenty(f);
  for (int i = 0; i < 15; ++i) f.work.userDelete(SyncFixture::kWork, ids[static_cast<std::size_t>(i)]);
  REQUIRE(f.sync().paused);
  REQUIRE(PairStore(f.t.db(), f.clock).confirmDeletions(f.pairId));
  int removes = 0;
  f.home.beforeWrite = [&](const std::string& op) -> core::Result<void> {
    if (op == "remove" && ++removes == 6) return core::fail(core::ErrorCode::Unavailable, "server went away");
    return {};
  };
  auto failed = f.trySync();
  REQUIRE_FALSE(failed);
  CHECK(f.home.removes == 5);
  CHECK_FALSE(pairOf(f).confirmedDeletions.empty());  // still there
  f.home.beforeWrite = nullptr;
  // ten are left of the fifteen confirmed: covered, so they go without a new confirmation
  auto r = f.sync();
  CHECK_FALSE(r.paused);
  CHECK(r.deleted == 10);
  CHECK(f.home.resources(SyncFixture::kHome).size() == 5);
  CHECK(pairOf(f).confirmedDeletions.empty());  // spent by the run that succeeded
}

TEST_CASE("guard: what new rules or a blocking organisation require runs while the pair is paused", "[sync][guard]") {
  SyncFixture f;
  auto ids = twenty(f);
  for (int i = 0; i < 15; ++i) f.work.userDelete(SyncFixture::kWork, ids[static_cast<std::size_t>(i)]);
  REQUIRE(f.sync().paused);
  // A remaining source can no longer be approved (its zone is unknown): a loss the source caused,
  // held with the others.
  f.work.userPut(SyncFixture::kWork, {timedEvent("e17", "Event 17", kMonday + hours(17), minutes(60), "Mars/Olympus")});
  auto r = f.sync();
  CHECK(r.paused);
  CHECK(f.home.removes == 0);
  CHECK(pairOf(f).guardDeletions.size() == 16);
  CHECK(pairOf(f).confirmationReason.find("16 of 20") != std::string::npos);

  // The user switches the pair to private: every copy that stays is rewritten now, and the one
  // that cannot be approved under the new rules goes, although the pair still waits.
  policy::PairRules rules;
  rules.mode = policy::PrivacyMode::Private;
  REQUIRE(PairStore(f.t.db(), f.clock).setRules(f.pairId, rules));
  auto redone = f.sync();
  CHECK(redone.paused);
  CHECK(redone.deleted == 1);
  CHECK(redone.updated == 4);
  auto copies = f.home.resources(SyncFixture::kHome);
  CHECK(copies.size() == 19);  // the fifteen held copies stay until a user confirms
  CHECK(std::count_if(copies.begin(), copies.end(), [](const auto& c) { return c.front().title == "Busy"; }) == 4);
  CHECK(pairOf(f).needsConfirmation);
  auto entries = f.auditEntries();
  CHECK(std::any_of(entries.begin(), entries.end(), [](const auto& e) {
    return e.entry.action == "sync.delete" && e.entry.facts.count("cause") && e.entry.facts.at("cause") == "policy_required";
  }));
  CHECK(f.sync().writes() == 0);  // done once

  // The organisation then blocks the target: every copy goes at once, none is held.
  policy::OrgPolicy org = policy::OrgPolicy::none("work.example");
  org.level = policy::OrgLevel::Block;
  org.validation = policy::Validation::Secure;
  f.orgs.byDomain["work.example"] = org;
  auto blocked = f.sync();
  CHECK_FALSE(blocked.paused);
  CHECK(f.home.resources(SyncFixture::kHome).empty());
  CHECK_FALSE(pairOf(f).needsConfirmation);
}

TEST_CASE("guard: a blocked target's copies go even when a glitchy listing held them as deleted", "[sync][guard]") {
  SyncFixture f;
  twenty(f);
  f.home.emptyListings = true;
  f.home.expireCursors();
  policy::OrgPolicy org = policy::OrgPolicy::none("work.example");
  org.level = policy::OrgLevel::Block;
  org.validation = policy::Validation::Secure;
  f.orgs.byDomain["work.example"] = org;
  f.sync();
  // the flips wait; the removals the block requires did not rest on them
  CHECK(f.home.resources(SyncFixture::kHome).empty());
  f.home.emptyListings = false;
  f.sync();
  CHECK(f.home.resources(SyncFixture::kHome).empty());
  CHECK_FALSE(pairOf(f).needsConfirmation);
}

TEST_CASE("guard: a series master edit keeps the copy's ETag on every occurrence (no false restore)", "[sync][guard][recurrence]") {
  SyncFixture f;
  auto master = timedEvent("s", "Series", kMonday);
  master.recurrence = {"RRULE:FREQ=DAILY;COUNT=5"};
  auto moved = timedEvent("s", "Series (moved)", kMonday + days(1) + hours(2));
  moved.recurrenceId = model::ZonedTime{kMonday + days(1), "UTC"};
  f.work.userPut(SyncFixture::kWork, {master, moved});
  f.sync();
  master.title = "Series renamed";
  f.work.userPut(SyncFixture::kWork, {master, moved});
  auto r = f.sync();
  CHECK(r.updated == 1);
  auto next = f.sync();
  CHECK(next.writes() == 0);
  CHECK(next.restored == 0);
}

TEST_CASE("downgrades leave no full-content copy behind: private rules, p=private, unapprovable series", "[sync][downgrade]") {
  SyncFixture f;  // full mode
  f.work.userPut(SyncFixture::kWork, {timedEvent("board", "Board meeting", kMonday)});
  Event weekly = timedEvent("weekly", "Weekly review", kMonday + hours(3));
  weekly.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=4"};
  f.work.userPut(SyncFixture::kWork, {weekly});
  Event daily = timedEvent("daily", "Daily sync", kMonday + hours(1));
  daily.recurrence = {"RRULE:FREQ=DAILY;COUNT=5"};
  Event moved = timedEvent("daily", "Daily sync (moved)", kMonday + days(1) + hours(2));
  moved.recurrenceId = model::ZonedTime{kMonday + days(1) + hours(1), "UTC"};
  f.work.userPut(SyncFixture::kWork, {daily, moved});
  REQUIRE(f.sync().created == 3);
  auto fullContent = [&] {
    std::vector<std::string> found;
    for (const auto& r : f.home.resources(SyncFixture::kHome)) {
      for (const auto& e : r) {
        if (e.status != model::Status::Cancelled && (e.title != "Busy" || !e.description.empty() || !e.location.empty())) {
          found.push_back(e.title);
        }
      }
    }
    return found;
  };
  REQUIRE(fullContent().size() == 4);

  // Switched to private while the weekly series' rules and one moved occurrence became something
  // calgate cannot approve: what can be approved is rewritten, the rest removed. Nothing stays.
  weekly.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=4;X-SECRET=board"};
  f.work.userPut(SyncFixture::kWork, {weekly});
  moved.start = model::ZonedTime{kMonday + days(1) + hours(2), "Mars/Olympus"};
  f.work.userPut(SyncFixture::kWork, {daily, moved});
  policy::PairRules rules;
  rules.mode = policy::PrivacyMode::Private;
  REQUIRE(PairStore(f.t.db(), f.clock).setRules(f.pairId, rules));
  auto r = f.sync();
  CHECK(r.deleted == 2);  // the weekly copy; the moved occurrence (cancelled in the daily copy)
  CHECK(fullContent().empty());
  CHECK(f.home.resources(SyncFixture::kHome).size() == 2);
  auto entries = f.auditEntries();
  CHECK(std::count_if(entries.begin(), entries.end(), [](const auto& e) {
          return e.entry.action == "sync.delete" && e.entry.facts.count("cause") && e.entry.facts.at("cause") == "policy_required";
        }) == 2);
  CHECK(f.sync().writes() == 0);

  // back to full mode, then the organisation publishes p=private: the copies turn private again
  REQUIRE(PairStore(f.t.db(), f.clock).setRules(f.pairId, policy::PairRules{}));
  f.sync();
  CHECK_FALSE(fullContent().empty());
  policy::OrgPolicy org = policy::OrgPolicy::none("work.example");
  org.level = policy::OrgLevel::Private;
  org.validation = policy::Validation::Secure;
  f.orgs.byDomain["work.example"] = org;
  f.sync();
  CHECK(fullContent().empty());
  CHECK(f.sync().writes() == 0);
}
