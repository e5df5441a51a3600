// Pair uniqueness and atomic pair changes, on both SQLite and PostgreSQL.

#include "calgate/accounts/user_store.hpp"
#include "calgate/sync/pair_store.hpp"
#include "support/migrated_database.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>


using namespace calgate;
using namespace calgate::accounts;
using namespace calgate::store;
using namespace std::chrono;

namespace {

struct Fixture : test::MigratedDatabase {
  UserStore users{t.db(), clock};
};

}  // namespace

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
