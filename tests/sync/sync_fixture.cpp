#include "sync/sync_fixture.hpp"

#include <catch2/catch.hpp>

namespace calgate::test {

using namespace gateway;
using namespace gateway::sync;

providers::Event timedEvent(const std::string& uid, const std::string& title, std::chrono::sys_seconds start,
                            std::chrono::minutes length, const std::string& zone) {
  providers::Event e;
  e.uid = uid;
  e.title = title;
  e.description = "details of " + title;
  e.location = "room of " + title;
  e.start = providers::ZonedTime{start, zone};
  e.end = providers::ZonedTime{start + length, zone};
  return e;
}

providers::Event allDayEvent(const std::string& uid, const std::string& title, std::chrono::year_month_day first,
                             int days) {
  providers::Event e;
  e.uid = uid;
  e.title = title;
  e.start = providers::Date{first};
  e.end = providers::Date{std::chrono::year_month_day(std::chrono::sys_days(first) + std::chrono::days(days))};
  return e;
}

SyncFixture::SyncFixture(Direction direction, SyncOptions opts) : options(std::move(opts)) {
  Migrator m(t.db(), builtinMigrations(t.dialect()), clock);
  REQUIRE(m.migrate());
  UserStore users(t.db(), clock);
  auto user = users.addUser("alice@work.example", "default");
  REQUIRE(user);
  userId = user->first.id;
  auto v = vault::Vault::open(
      t.db(), vault::MasterKeyMaterial{vault::MasterKeyMaterial::Kind::Raw, vault::SecretBytes(vault::kKeyBytes, 7), "t"},
      clock);
  REQUIRE(v);
  vault = std::move(*v);
  AccountStore accounts(t.db(), *vault, clock);
  const vault::SecretBytes secret{'p', 'w'};
  auto a = accounts.create({userId, "caldav", "alice@work.example", "https://dav.work.example/"}, secret);
  auto b = accounts.create({userId, "caldav", "alice@home.example", "https://dav.home.example/"}, secret);
  REQUIRE(a);
  REQUIRE(b);
  CalendarStore calendars(t.db(), clock);
  auto wc = calendars.upsert(a->id, kWork, "Work", "Europe/Berlin", true);
  auto hc = calendars.upsert(b->id, kHome, "Home", "Europe/Berlin", true);
  REQUIRE(wc);
  REQUIRE(hc);
  workCal = *wc;
  homeCal = *hc;
  PairStore pairs(t.db(), clock);
  NewPair np;
  np.userId = userId;
  np.sourceCalendarId = workCal.id;
  np.targetCalendarId = homeCal.id;
  np.direction = direction;
  auto p = pairs.create(np);
  REQUIRE(p);
  pairId = p->id;
  restart(options);
}

void SyncFixture::restart(SyncOptions next) {
  options = std::move(next);
  engine = std::make_unique<SyncEngine>(t.db(), orgs, clock, options);
}

core::Result<SyncReport> SyncFixture::trySync() { return engine->syncPair(pairId, work, home); }

SyncReport SyncFixture::sync() {
  auto r = trySync();
  INFO((r ? std::string() : r.error().describe()));
  REQUIRE(r);
  return *r;
}

std::map<std::string, std::vector<providers::Event>> SyncFixture::byTitle(const FakeProvider& p,
                                                                          const std::string& cal) const {
  std::map<std::string, std::vector<providers::Event>> out;
  for (auto& r : p.resources(cal)) {
    const std::string title = r.front().title;
    INFO("duplicate title " << title);
    CHECK_FALSE(out.count(title));
    out[title] = r;
  }
  return out;
}

std::vector<audit::StoredEntry> SyncFixture::auditEntries() {
  audit::AuditLog log(t.db(), clock);
  auto entries = log.read(0, 100000);
  REQUIRE(entries);
  return *entries;
}

}  // namespace calgate::test
