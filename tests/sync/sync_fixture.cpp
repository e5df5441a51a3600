#include "sync/sync_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <tuple>

namespace calgate::test {

using namespace calgate::accounts;
using namespace calgate::store;
using namespace calgate::sync;

model::Event timedEvent(const std::string& uid, const std::string& title, std::chrono::sys_seconds start,
                            std::chrono::minutes length, const std::string& zone) {
  model::Event e;
  e.uid = uid;
  e.title = title;
  e.description = "details of " + title;
  e.location = "room of " + title;
  e.start = model::ZonedTime{start, zone};
  e.end = model::ZonedTime{start + length, zone};
  return e;
}

model::Event allDayEvent(const std::string& uid, const std::string& title, std::chrono::year_month_day first,
                             int days) {
  model::Event e;
  e.uid = uid;
  e.title = title;
  e.start = model::Date{first};
  e.end = model::Date{std::chrono::year_month_day(std::chrono::sys_days(first) + std::chrono::days(days))};
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
  // as discovery proves them: each server's registrable domain and the principal's address in it
  auto a = accounts.create({userId, model::ProviderKind::CalDav, "alice@work.example", "https://dav.work.example/",
                            model::caldavIdentities("https://dav.work.example/", {"mailto:alice@work.example"})},
                           secret);
  auto b = accounts.create({userId, model::ProviderKind::CalDav, "alice@home.example", "https://dav.home.example/",
                            model::caldavIdentities("https://dav.home.example/", {"mailto:alice@home.example"})},
                           secret);
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
  // The preview first: the plan, not applied. The run must then apply exactly its steps, and
  // the providers must see one write per step that writes. The preview's own pulls are not the
  // run's: their complete-listing counts are put back.
  const auto listings = std::pair{work.completeListings, home.completeListings};
  const std::size_t writesBefore = work.writes() + home.writes();
  auto preview = engine->planPair(pairId, work, home);
  std::tie(work.completeListings, home.completeListings) = listings;
  REQUIRE(work.writes() + home.writes() == writesBefore);
  auto r = trySync();
  INFO((r ? std::string() : r.error().describe()));
  REQUIRE(r);
  if (r->skipped) return *r;
  INFO((preview ? std::string() : preview.error().describe()));
  REQUIRE(preview);
  // every previewed step ran, except those of events the target refused (failing, tried later)
  auto expected = stepsToApply(*preview);
  std::erase_if(expected, [&](const auto& s) {
    return std::find(r->failedEvents.begin(), r->failedEvents.end(), s.eventId) != r->failedEvents.end();
  });
  CHECK(r->steps == expected);
  const auto ops = std::count_if(expected.begin(), expected.end(), [](const auto& s) { return s.op != WriteOp::None; });
  CHECK(work.writes() + home.writes() - writesBefore == static_cast<std::size_t>(ops) + r->recovered);
  CHECK(r->paused == preview->held());
  ++previewsChecked;
  return *r;
}

std::map<std::string, std::vector<model::Event>> SyncFixture::byTitle(const FakeProvider& p,
                                                                          const std::string& cal) const {
  std::map<std::string, std::vector<model::Event>> out;
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
