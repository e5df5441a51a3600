// GDPR erasure, on both SQLite and PostgreSQL: every row of the user goes, a hash of the email stays.

#include "calgate/accounts/user_erasure.hpp"
#include "calgate/accounts/user_store.hpp"
#include "calgate/core/hash.hpp"
#include "calgate/feeds/feed_store.hpp"
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
  feeds::FeedStore feedStore{t.db(), clock};
};

}  // namespace

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
  // without a key (an older calgate) the plain hash still finds the erased user
  auto found = erasedUserIds(f.t.db(), "", "leaving@example.com");
  REQUIRE(found);
  CHECK(*found == std::vector<std::string>{uid});
}

TEST_CASE("with the vault's key the erasure record keeps a keyed hash of the address, which finds the erased user",
          "[store][erasure]") {
  Fixture f;
  auto user = f.users.addUser("keyed@example.com", "t");
  REQUIRE(user);
  const std::string uid = user->first.id;
  const std::string key(32, 'q');
  REQUIRE(eraseUser(f.t.db(), f.clock, uid, "admin", key));
  CHECK(f.count("SELECT COUNT(*) FROM deletion_audit WHERE email_sha256 = '" + core::sha256Hex("keyed@example.com") + "'") == 0);
  CHECK(f.count("SELECT COUNT(*) FROM deletion_audit WHERE email_sha256 = '" + emailHash(key, "keyed@example.com") +
                "' AND user_id = '" + uid + "'") == 1);
  CHECK(emailHash(key, "keyed@example.com").rfind("k1:", 0) == 0);
  auto found = erasedUserIds(f.t.db(), key, "keyed@example.com");
  REQUIRE(found);
  CHECK(*found == std::vector<std::string>{uid});
  // another key finds nothing: the hash cannot be confirmed without calgate's own
  found = erasedUserIds(f.t.db(), std::string(32, 'z'), "keyed@example.com");
  REQUIRE(found);
  CHECK(found->empty());
}

