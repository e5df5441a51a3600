// Feed tokens and their PIN lockout, on both SQLite and PostgreSQL.

#include "calgate/accounts/user_store.hpp"
#include "calgate/core/hash.hpp"
#include "calgate/feeds/feed_store.hpp"
#include "support/migrated_database.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include <thread>

using namespace calgate;
using namespace calgate::accounts;
using namespace calgate::store;
using namespace std::chrono;

namespace {

struct Fixture : test::MigratedDatabase {
  UserStore users{t.db(), clock};
  feeds::FeedStore feedStore{t.db(), clock};
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

