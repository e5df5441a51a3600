// calgate does not read back what it wrote: a listing that shows a copy at the ETag calgate
// recorded after writing it is not fetched (Provider::pullChanges' KnownVersions), and the records
// of a run's copies are committed in groups (SyncOptions::recordGroup).
#include "calgate/audit/audit_log.hpp"
#include "calgate/sync/mapping_store.hpp"
#include "sync/sync_fixture.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include <map>

using namespace calgate;
using namespace calgate::sync;
using namespace std::chrono;
using calgate::test::SyncFixture;
using calgate::test::timedEvent;

namespace {

const auto kStart = sys_days(2026y / November / 23) + hours(8);

void fill(test::FakeProvider& p, const std::string& calendar, int n, const std::string& prefix) {
  for (int i = 0; i < n; ++i) {
    p.userPut(calendar, {timedEvent(prefix + std::to_string(i), prefix + " event " + std::to_string(i),
                                    kStart + hours(i % 500), minutes(30))});
  }
}

/// A run some seconds after the last one, as runs are (the copies a run wrote are then older than
/// the next listing, which is when a listing that leaves them out says they are untouched).
sync::SyncReport later(SyncFixture& f) {
  f.clock.advance(seconds(5));
  return f.sync();
}

long long count(SyncFixture& f, const std::string& query) {
  long long n = 0;
  REQUIRE(f.t.db().withSession([&](soci::session& sql) -> core::Result<void> {
    sql << query, soci::into(n);
    return {};
  }));
  return n;
}

}  // namespace

TEST_CASE("the sync after an initial sync of 1000 events reads none of calgate's own copies", "[sync][reads]") {
  SyncFixture f;
  fill(f.work, SyncFixture::kWork, 1000, "w");
  CHECK(later(f).created == 1000);
  const auto sourceReads = f.work.reads, targetReads = f.home.reads;
  CHECK(targetReads == 0);  // the first pull of an empty target read nothing either

  // the target's listing now shows 1,000 new resources: calgate's copies, at the ETags it recorded
  auto again = later(f);
  CHECK(again.writes() == 0);
  CHECK(f.home.reads == targetReads);  // not one copy fetched back
  CHECK(f.work.reads == sourceReads);  // nothing changed at the source
  CHECK(later(f).writes() == 0);
  CHECK(f.home.reads == targetReads);

  SECTION("a copy a user changed is read and rewritten from its source") {
    auto copies = f.home.resources(SyncFixture::kHome);
    REQUIRE(copies.size() == 1000);
    auto edited = copies[17];
    edited.front().title = "scribbled over";
    f.home.userPut(SyncFixture::kHome, edited);
    auto r = later(f);
    CHECK(r.writes() == 1);
    CHECK(f.home.reads == targetReads + 2);  // only that one (by the preview's pull and the run's)
    for (const auto& c : f.home.resources(SyncFixture::kHome)) CHECK(c.front().title != "scribbled over");
  }
  SECTION("a complete listing (an expired token) reads none of them either") {
    f.home.expireCursors();
    f.work.expireCursors();
    CHECK(later(f).writes() == 0);
    CHECK(f.home.reads == targetReads);
    CHECK(f.work.reads == sourceReads + 2000);  // the sources are read (preview and run): they are mirrored
  }
  SECTION("a copy a user deleted is noticed in a complete listing") {
    auto copies = f.home.resources(SyncFixture::kHome);
    f.home.userDelete(SyncFixture::kHome, copies[3].front().id);
    f.home.expireCursors();
    auto r = later(f);
    CHECK(r.respectedDeletions == 1);
    CHECK(r.writes() == 0);
    CHECK(f.home.reads == targetReads);
  }
}

TEST_CASE("two-way: neither side reads back the copies calgate wrote into it", "[sync][reads][twoway]") {
  SyncFixture f(Direction::TwoWay);
  fill(f.work, SyncFixture::kWork, 300, "w");
  fill(f.home, SyncFixture::kHome, 200, "h");
  auto first = later(f);
  CHECK(first.created == 500);
  const auto workReads = f.work.reads, homeReads = f.home.reads;
  CHECK(later(f).writes() == 0);
  CHECK(f.work.reads == workReads);
  CHECK(f.home.reads == homeReads);
}

TEST_CASE("copies with a fingerprint of another key are read, and re-recorded without a write", "[sync][reads]") {
  SyncOptions first;
  first.hasher = std::make_shared<const policy::ContentHasher>(std::string(32, 'k'));
  SyncFixture f(Direction::OneWay, first);
  fill(f.work, SyncFixture::kWork, 20, "w");
  CHECK(later(f).created == 20);
  CHECK(later(f).writes() == 0);
  const auto reads = f.home.reads;
  // another key (the database moved to an installation with another vault)
  SyncOptions other;
  other.hasher = std::make_shared<const policy::ContentHasher>(std::string(32, 'x'));
  f.restart(other);
  f.work.expireCursors();
  f.home.expireCursors();
  // the copies are listed unchanged, so not read at first; the plan would rewrite them (their
  // fingerprints do not match the new key), so they are read and found to hold the write already
  CHECK(later(f).writes() == 0);
  CHECK(f.home.reads == reads + 2 * 20);  // by the preview and by the run
  CHECK(later(f).writes() == 0);
}

TEST_CASE("the records of a run's copies are committed in groups, and every copy is recorded", "[sync][records]") {
  SyncOptions options;
  options.recordGroup = 16;
  options.recordDelay = hours(1);  // only the size closes a group here
  std::vector<long long> recordedAtWrite;
  SyncFixture* fixture = nullptr;
  options.failpoint = [&](std::string_view point) -> core::Result<void> {
    if (point == "before_write" && fixture) {
      recordedAtWrite.push_back(count(*fixture, "SELECT COUNT(*) FROM mappings"));
    }
    return {};
  };
  SyncFixture f(Direction::OneWay, options);
  fixture = &f;
  fill(f.work, SyncFixture::kWork, 40, "w");
  CHECK(later(f).created == 40);
  REQUIRE(recordedAtWrite.size() == 40);
  // before the 17th write the first group of 16 is committed, and not before
  CHECK(recordedAtWrite[15] == 0);
  CHECK(recordedAtWrite[16] == 16);
  CHECK(recordedAtWrite[32] == 32);
  CHECK(count(f, "SELECT COUNT(*) FROM mappings WHERE state = 'synced'") == 40);  // the last 8 at the run's end
  CHECK(count(f, "SELECT COUNT(*) FROM audit_log WHERE action = 'sync.write'") == 40);
  CHECK(later(f).writes() == 0);

  SECTION("a run that fails records what it wrote before failing") {
    fill(f.work, SyncFixture::kWork, 60, "x");
    int writes = 0;
    f.home.beforeWrite = [&](const std::string&) -> core::Result<void> {
      if (++writes > 20) return core::fail(core::ErrorCode::Unavailable, "the server went away");
      return {};
    };
    f.clock.advance(seconds(5));
    REQUIRE_FALSE(f.trySync());
    // 40 + the 20 written, though only one group of 16 of them was full
    CHECK(count(f, "SELECT COUNT(*) FROM mappings WHERE state = 'synced'") == 60);
    f.home.beforeWrite = nullptr;
    const auto creates = f.home.creates;
    CHECK(later(f).created == 40);
    CHECK(f.home.creates == creates + 40);  // nothing written twice
  }
}

TEST_CASE("a record group in multi-row statements ends as saving its rows one by one would", "[sync][records]") {
  SyncFixture f;
  MappingStore store(f.t.db(), f.clock);
  auto row = [&](const std::string& event, const std::string& rid, const std::string& resource, const std::string& etag,
                 MappingState state = MappingState::Synced) {
    Mapping m;
    m.pairId = f.pairId;
    m.sourceCalendarId = f.workCal.id;
    m.sourceEventId = event;
    m.sourceRecurrenceId = rid;
    m.targetEventId = resource;
    m.targetEtag = etag;
    m.state = state;
    m.startAt = 100;
    if (state == MappingState::Deleted) m.deletedAt = 5;
    return m;
  };
  auto audited = [&](std::vector<Mapping> ms, const std::string& what) {
    audit::AuditEntry e;
    e.userId = "usr_records";
    e.action = "sync.test";
    e.objectRef = what;
    return StepRecord{std::move(ms), e};
  };
  // rows of an earlier group: one of R1's, and one a later save of its key leaves denied
  REQUIRE(store.recordSteps({{{row("series", "20261208T080000Z", "R1", "old"), row("refused", "", "R9", "r")}, {}}}));
  std::vector<StepRecord> group;
  group.push_back(audited({row("refused", "", "", "", MappingState::Denied)}, "0"));
  group.push_back(audited({row("series", "", "R1", "e1")}, "1"));
  group.push_back(audited({row("series", "20261201T080000Z", "R1", "e2")}, "2"));  // an exception in the series' resource
  Mapping again = row("series", "", "R1", "e3");
  again.startAt = 200;  // the same key twice in one group: the last save wins
  group.push_back(audited({again}, "3"));
  group.push_back(audited({row("moved", "", "R2", "e4")}, "4"));
  group.push_back(audited({row("moved", "", "R3", "e5", MappingState::Deleted)}, "5"));
  group.push_back({{row("kept", "", "R2", "e6")}, std::nullopt});  // shares R2 with "moved"'s first save
  for (int i = 0; i < 300; ++i) {  // more rows than one statement takes
    group.push_back(audited({row("bulk" + std::to_string(i), "", "B" + std::to_string(i), "b" + std::to_string(i))},
                            "bulk"));
  }
  REQUIRE(store.recordSteps(group));

  auto loaded = store.load(f.pairId, f.workCal.id);
  REQUIRE(loaded);
  REQUIRE(loaded->size() == 306);
  std::map<std::string, Mapping> by;
  for (const auto& m : *loaded) by[m.sourceEventId + "/" + m.sourceRecurrenceId] = m;
  CHECK(by["series/"].targetEtag == "e3");
  CHECK(by["series/"].startAt == 200);
  CHECK(by["series/20261201T080000Z"].targetEtag == "e3");  // every synced mapping of R1 took its last ETag
  CHECK(by["series/20261208T080000Z"].targetEtag == "e3");  // an earlier group's too
  CHECK(by["refused/"].state == MappingState::Denied);
  CHECK(by["refused/"].targetEventId.empty());
  CHECK(by["moved/"].state == MappingState::Deleted);
  CHECK(by["moved/"].targetEventId == "R3");
  CHECK(by["moved/"].targetEtag == "e5");
  CHECK(by["kept/"].targetEtag == "e6");
  CHECK(by["bulk299/"].targetEtag == "b299");
  // the audit entries in order, the chain whole
  CHECK(count(f, "SELECT COUNT(*) FROM audit_log WHERE user_id = 'usr_records'") == 306);
  CHECK(count(f, "SELECT COUNT(*) FROM audit_log WHERE user_id = 'usr_records' AND object_ref = 'bulk'") == 300);
  auto verified = audit::AuditLog(f.t.db(), f.clock).verify();
  REQUIRE(verified);
  CHECK(*verified >= 306);
  // the order of the chain is the order of the steps
  CHECK(count(f, "SELECT COUNT(*) FROM audit_log a JOIN audit_log b ON b.seq > a.seq WHERE a.object_ref = '5' AND "
                 "b.object_ref = '4' AND a.user_id = 'usr_records'") == 0);
}
