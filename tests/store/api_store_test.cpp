// What the REST API keeps, on both SQLite and PostgreSQL: feeds and their PIN lockout, pair
// uniqueness and atomic pair changes, erasure.

#include "calgate/core/hash.hpp"
#include "calgate/gateway/feeds/feed_store.hpp"
#include "calgate/gateway/store/migrator.hpp"
#include "calgate/gateway/store/user_erasure.hpp"
#include "calgate/gateway/store/user_store.hpp"
#include "calgate/gateway/sync/pair_store.hpp"
#include "fakes/fake_clock.hpp"
#include "support/test_database.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include <thread>

using namespace calgate;
using namespace calgate::gateway;
using namespace std::chrono;

namespace {

struct Fixture {
  test::TestDatabase t;
  test::FakeClock clock{core::TimePoint(seconds(1'800'000'000))};
  UserStore users{t.db(), clock};
  feeds::FeedStore feedStore{t.db(), clock};
  Fixture() { REQUIRE(Migrator(t.db(), builtinMigrations(t.dialect()), clock).migrate()); }
  long long count(const std::string& sql) {
    long long n = 0;
    REQUIRE(t.db().withSession([&](soci::session& s) -> core::Result<void> {
      s << sql, soci::into(n);
      return {};
    }));
    return n;
  }
};

}  // namespace

TEST_CASE("feed tokens are stored hashed and stop working when revoked", "[store][feeds]") {
  Fixture f;
  auto user = f.users.addUser("feed@example.com", "t");
  REQUIRE(user);
  auto issued = f.feedStore.create({user->first.id, "Away", {"cal_a", "cal_b"}, 3, 30, std::nullopt});
  REQUIRE(issued);
  CHECK(issued->token.starts_with("cgf_"));
  CHECK(f.count("SELECT COUNT(*) FROM feeds WHERE token_sha256 = '" + core::sha256Hex(issued->token) + "'") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM feeds WHERE token_sha256 = '" + issued->token + "'") == 0);
  auto found = f.feedStore.findByToken(issued->token);
  REQUIRE(found);
  CHECK(found->calendarIds == std::vector<std::string>{"cal_a", "cal_b"});
  CHECK_FALSE(found->pinProtected);
  CHECK_FALSE(f.feedStore.findByToken("cgf_unknown"));
  CHECK_FALSE(f.feedStore.findByToken("not-a-token"));
  REQUIRE(f.feedStore.revoke(found->id));
  CHECK(f.feedStore.findByToken(issued->token).error().code == core::ErrorCode::NotFound);
  CHECK(f.feedStore.get(found->id)->revokedAt);

  CHECK_FALSE(f.feedStore.create({user->first.id, "x", {}, 3, 30, std::nullopt}));        // no calendars
  CHECK_FALSE(f.feedStore.create({user->first.id, "x", {"c"}, 91, 30, std::nullopt}));    // window
  CHECK_FALSE(f.feedStore.create({user->first.id, "x", {"c"}, 3, 30, std::string("12a4")}));  // PIN
}

TEST_CASE("wrong feed PINs lock the feed, doubling, and the right one resets the count", "[store][feeds]") {
  Fixture f;
  auto user = f.users.addUser("pin@example.com", "t");
  REQUIRE(user);
  auto issued = f.feedStore.create({user->first.id, "Busy", {"cal_a"}, 3, 30, std::string("2468")});
  REQUIRE(issued);
  const std::string id = issued->feed.id;
  CHECK(issued->feed.pinProtected);
  CHECK(f.count("SELECT COUNT(*) FROM feeds WHERE pin_scrypt LIKE '%2468%'") == 0);
  CHECK(f.feedStore.checkPin(id, "2468")->accepted);
  for (int i = 1; i < feeds::kPinAttempts; ++i) {
    auto c = f.feedStore.checkPin(id, "0000");
    REQUIRE(c);
    CHECK_FALSE(c->accepted);
    CHECK_FALSE(c->lockedFor);
  }
  CHECK(f.feedStore.checkPin(id, "2468")->accepted);  // resets the count
  for (int i = 1; i < feeds::kPinAttempts; ++i) REQUIRE_FALSE(f.feedStore.checkPin(id, "1111")->lockedFor);
  auto locked = f.feedStore.checkPin(id, "1111");
  REQUIRE(locked->lockedFor);
  CHECK(*locked->lockedFor == feeds::kFirstLock);
  auto stillLocked = f.feedStore.checkPin(id, "2468");  // even the right PIN while locked
  CHECK_FALSE(stillLocked->accepted);
  CHECK(stillLocked->lockedFor);
  f.clock.advance(feeds::kFirstLock + seconds(1));
  for (int i = 1; i < feeds::kPinAttempts; ++i) REQUIRE_FALSE(f.feedStore.checkPin(id, "1111")->lockedFor);
  auto second = f.feedStore.checkPin(id, "1111");
  REQUIRE(second->lockedFor);
  CHECK(*second->lockedFor == 2 * feeds::kFirstLock);
  f.clock.advance(2 * feeds::kFirstLock + seconds(1));
  CHECK(f.feedStore.checkPin(id, "2468")->accepted);
}

TEST_CASE("erasing a user removes every row and keeps only a hash of the email", "[store][erasure]") {
  Fixture f;
  auto user = f.users.addUser("leaving@example.com", "t");
  auto other = f.users.addUser("staying@example.com", "t");
  REQUIRE(user);
  REQUIRE(other);
  const std::string uid = user->first.id;
  REQUIRE(f.feedStore.create({uid, "Busy", {"cal_a"}, 3, 30, std::string("1234")}));
  REQUIRE(f.feedStore.create({other->first.id, "Busy", {"cal_b"}, 3, 30, std::nullopt}));
  auto seeded = f.t.db().withSession([&](soci::session& s) -> core::Result<void> {
    s << "INSERT INTO vault_keys (id, wrapped_key, created_at) VALUES ('k', 'wrapped', 1)";
    s << "INSERT INTO accounts (id, user_id, provider, email, domain, credential_ciphertext, credential_key_id, "
         "created_at, updated_at) VALUES ('acc_1', :u, 'caldav', 'x@example.com', 'example.com', 'sealed', 'k', 1, 1)",
        soci::use(uid);
    s << "INSERT INTO calendars (id, account_id, provider_calendar_id, created_at, updated_at) "
         "VALUES ('cal_1', 'acc_1', 'https://dav/1/', 1, 1)";
    s << "INSERT INTO calendars (id, account_id, provider_calendar_id, created_at, updated_at) "
         "VALUES ('cal_2', 'acc_1', 'https://dav/2/', 1, 1)";
    s << "INSERT INTO pairs (id, user_id, source_calendar_id, target_calendar_id, direction, rules_json, created_at, "
         "updated_at) VALUES ('pair_1', :u, 'cal_1', 'cal_2', 'one_way', '{}', 1, 1)",
        soci::use(uid);
    s << "INSERT INTO mappings (id, pair_id, source_calendar_id, source_event_id, state, start_at, end_at, created_at, "
         "updated_at) VALUES ('map_1', 'pair_1', 'cal_1', 'e1', 'synced', 1, 2, 1, 1)";
    s << "INSERT INTO jobs (id, kind, pair_id, state, run_at, created_at, updated_at) "
         "VALUES ('job_1', 'sync_pair', 'pair_1', 'queued', 1, 1, 1)";
    return {};
  });
  INFO((seeded ? std::string() : seeded.error().message));
  REQUIRE(seeded);
  auto counts = eraseUser(f.t.db(), f.clock, uid, "user");
  REQUIRE(counts);
  CHECK(counts->accounts == 1);
  CHECK(counts->calendars == 2);
  CHECK(counts->pairs == 1);
  CHECK(counts->mappings == 1);
  CHECK(counts->feeds == 1);
  CHECK(counts->tokens == 1);
  CHECK(f.count("SELECT COUNT(*) FROM users WHERE id = '" + uid + "'") == 0);
  for (const char* table : {"api_tokens", "accounts", "pairs", "feeds"}) {
    INFO(table);
    CHECK(f.count(std::string("SELECT COUNT(*) FROM ") + table + " WHERE user_id = '" + uid + "'" ) == 0);
  }
  CHECK(f.count("SELECT COUNT(*) FROM calendars") == 0);
  CHECK(f.count("SELECT COUNT(*) FROM mappings") == 0);
  CHECK(f.count("SELECT COUNT(*) FROM jobs") == 0);
  CHECK(f.count("SELECT COUNT(*) FROM users") == 1);  // the other user stays
  CHECK(f.count("SELECT COUNT(*) FROM feeds") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM deletion_audit WHERE email_sha256 = '" +
                core::sha256Hex("leaving@example.com") + "' AND requested_by = 'user'") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM deletion_audit WHERE counts_json LIKE '%leaving%'") == 0);
  CHECK(f.count("SELECT COUNT(*) FROM audit_log WHERE action = 'user.erase' AND details_json LIKE '%leaving%'") == 0);
  CHECK(f.count("SELECT COUNT(*) FROM audit_log WHERE action = 'user.erase'") == 1);
  CHECK(eraseUser(f.t.db(), f.clock, uid, "user").error().code == core::ErrorCode::NotFound);
}

TEST_CASE("concurrent wrong PINs get at most the allowed guesses before the lock", "[store][feeds]") {
  Fixture f;
  auto user = f.users.addUser("race@example.com", "t");
  REQUIRE(user);
  auto issued = f.feedStore.create({user->first.id, "Busy", {"cal_a"}, 3, 30, std::string("97531")});
  REQUIRE(issued);
  std::atomic<int> judged{0}, locked{0}, errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 12; ++i) {
    threads.emplace_back([&] {
      auto c = f.feedStore.checkPin(issued->feed.id, "11111");
      if (!c) ++errors;
      else if (c->lockedFor) ++locked;
      else ++judged;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(errors == 0);
  CHECK(judged == feeds::kPinAttempts - 1);  // the 5th guess is judged too, and answered with the lock
  CHECK(locked == 12 - (feeds::kPinAttempts - 1));
  CHECK_FALSE(f.feedStore.checkPin(issued->feed.id, "97531")->accepted);  // still locked for the right PIN
}

TEST_CASE("two calendars are paired at most once, and pair changes apply to the stored row", "[store][pairs]") {
  Fixture f;
  auto user = f.users.addUser("pairs@example.com", "t");
  REQUIRE(user);
  const std::string uid = user->first.id;
  REQUIRE(f.t.db().withSession([&](soci::session& s) -> core::Result<void> {
    s << "INSERT INTO vault_keys (id, wrapped_key, created_at) VALUES ('k', 'wrapped', 1)";
    s << "INSERT INTO accounts (id, user_id, provider, email, domain, credential_ciphertext, credential_key_id, "
         "created_at, updated_at) VALUES ('acc_1', :u, 'caldav', 'x@example.com', 'example.com', 'sealed', 'k', 1, 1)",
        soci::use(uid);
    for (const std::string c : {"cal_1", "cal_2", "cal_3"}) {
      const std::string url = "https://dav/" + c;  // bound by reference: must outlive the statement
      s << "INSERT INTO calendars (id, account_id, provider_calendar_id, created_at, updated_at) "
           "VALUES (:c, 'acc_1', :p, 1, 1)",
          soci::use(c), soci::use(url);
    }
    return {};
  }));
  sync::PairStore pairs(f.t.db(), f.clock);
  sync::NewPair np;
  np.userId = uid;
  np.sourceCalendarId = "cal_1";
  np.targetCalendarId = "cal_2";
  auto first = pairs.create(np);
  REQUIRE(first);
  CHECK(pairs.create(np).error().code == core::ErrorCode::Conflict);
  std::swap(np.sourceCalendarId, np.targetCalendarId);
  CHECK(pairs.create(np).error().code == core::ErrorCode::Conflict);  // the mirror image too
  np.targetCalendarId = "cal_3";
  CHECK(pairs.create(np));

  // Two partial changes, the second prepared before the first was applied: neither undoes the other.
  sync::PairChange disable;
  disable.enabled = false;
  sync::PairChange relabel;
  relabel.editRules = [](policy::PairRules& r) { r.label = "Away"; };
  REQUIRE(pairs.change(first->id, disable));
  auto after = pairs.change(first->id, relabel);
  REQUIRE(after);
  CHECK_FALSE(after->enabled);
  CHECK(after->rules.label == "Away");
  sync::PairChange window;
  window.windowFutureDays = 4000;
  CHECK(pairs.change(first->id, window).error().code == core::ErrorCode::Invalid);
  CHECK(pairs.get(first->id)->windowFutureDays == 365);
}
