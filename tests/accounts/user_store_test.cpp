#include "calgate/accounts/user_store.hpp"
#include "calgate/core/clock.hpp"
#include "calgate/core/hash.hpp"
#include "calgate/store/migrator.hpp"
#include "calgate/store/statement_cache.hpp"
#include "support/test_database.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include <cstdlib>

using namespace calgate;
using namespace calgate::accounts;
using namespace calgate::store;
using calgate::test::TestDatabase;

namespace {

class ManualClock final : public core::Clock {
 public:
  core::TimePoint now() const override { return t; }
  core::TimePoint t{std::chrono::seconds(1'800'000'000)};
};

struct Fixture {
  TestDatabase t;
  ManualClock clock;
  UserStore users{t.db(), clock};
  Fixture() {
    Migrator m(t.db(), builtinMigrations(t.dialect()), clock);
    REQUIRE(m.migrate());
  }
};

// The number of users, through a statement the session keeps prepared.
long long countUsers(Database& db, soci::session& sql) {
  struct Count {
    long long n = 0;
  };
  auto& q = cachedStatement<Count>(db, sql, "SELECT COUNT(*) FROM users",
                                   [](soci::statement& st, Count& row) { st.exchange(soci::into(row.n)); });
  q.fetchOne();
  return q.row.n;
}

}  // namespace

TEST_CASE("email addresses are normalised and checked", "[store]") {
  CHECK(normaliseEmail("  Alice@Example.COM ") == std::string("alice@example.com"));
  CHECK_FALSE(normaliseEmail(""));
  CHECK_FALSE(normaliseEmail("no-at-sign"));
  CHECK_FALSE(normaliseEmail("two@@example.com"));
  CHECK_FALSE(normaliseEmail("@example.com"));
  CHECK_FALSE(normaliseEmail("a@"));
  CHECK_FALSE(normaliseEmail("a@.example.com"));
  CHECK_FALSE(normaliseEmail("a b@example.com"));
  CHECK_FALSE(normaliseEmail("a@exa_mple.com"));
  CHECK_FALSE(normaliseEmail(std::string(65, 'a') + "@example.com"));
}

TEST_CASE("users are created with a first token and unique emails", "[store][users]") {
  Fixture f;
  auto created = f.users.addUser("Alice@Example.com", "laptop");
  REQUIRE(created);
  CHECK(created->first.email == "alice@example.com");
  CHECK(created->first.id.starts_with("usr_"));
  CHECK(created->second.secret.starts_with("cgt_"));
  CHECK(created->second.token.label == "laptop");

  auto dup = f.users.addUser("alice@example.com", "x");
  REQUIRE_FALSE(dup);
  CHECK(dup.error().code == core::ErrorCode::Conflict);
  auto bad = f.users.addUser("not-an-email", "x");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == core::ErrorCode::Invalid);

  auto list = f.users.listUsers();
  REQUIRE(list);
  REQUIRE(list->size() == 1);
  CHECK(list->front().email == "alice@example.com");
}

TEST_CASE("tokens authenticate until revoked and only their hash is stored", "[store][users][auth]") {
  Fixture f;
  auto created = f.users.addUser("bob@example.com", "default");
  REQUIRE(created);
  const std::string secret = created->second.secret;

  auto p = f.users.authenticate(secret);
  REQUIRE(p);
  CHECK(p->user.email == "bob@example.com");
  CHECK(p->token.id == created->second.token.id);
  CHECK(p->token.lastUsedAt == f.clock.nowUnixSeconds());

  {
    auto s = f.t.db().acquire();
    std::string stored;
    **s << "SELECT token_sha256 FROM api_tokens WHERE id = :i", soci::use(created->second.token.id), soci::into(stored);
    CHECK(stored == core::sha256Hex(secret));
    int hits = -1;
    **s << "SELECT COUNT(*) FROM api_tokens WHERE token_sha256 = :s OR label = :s OR id = :s", soci::use(secret, "s"),
        soci::into(hits);
    CHECK(hits == 0);
  }

  auto second = f.users.issueToken("BOB@example.com", "ci");
  REQUIRE(second);
  CHECK(second->secret != secret);
  auto tokens = f.users.listTokens("bob@example.com");
  REQUIRE(tokens);
  CHECK(tokens->size() == 2);

  auto revoked = f.users.revokeToken(created->second.token.id);
  REQUIRE(revoked);
  CHECK(revoked->revokedAt.has_value());
  CHECK(f.users.revokeToken(created->second.token.id));  // idempotent
  auto after = f.users.authenticate(secret);
  REQUIRE_FALSE(after);
  CHECK(after.error().code == core::ErrorCode::Unauthorized);
  CHECK(f.users.authenticate(second->secret));  // the other token still works

  auto unknown = f.users.revokeToken("tok_doesnotexist");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == core::ErrorCode::NotFound);
  CHECK_FALSE(f.users.issueToken("nobody@example.com", "x"));
}

TEST_CASE("every authentication failure looks the same", "[store][users][auth]") {
  Fixture f;
  auto created = f.users.addUser("carol@example.com", "default");
  REQUIRE(created);
  std::string tampered = created->second.secret;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  for (const std::string& candidate : {std::string(), std::string("short"), tampered, std::string(500, 'x')}) {
    auto r = f.users.authenticate(candidate);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::ErrorCode::Unauthorized);
    CHECK(r.error().message == "missing or invalid bearer token");
  }
}

TEST_CASE("last use is recorded at most once a minute", "[store][users][auth]") {
  Fixture f;
  auto created = f.users.addUser("dave@example.com", "default");
  REQUIRE(created);
  const long long first = f.clock.nowUnixSeconds();
  REQUIRE(f.users.authenticate(created->second.secret));
  f.clock.t += std::chrono::seconds(30);
  CHECK(f.users.authenticate(created->second.secret)->token.lastUsedAt == first);
  f.clock.t += std::chrono::seconds(31);
  CHECK(f.users.authenticate(created->second.secret)->token.lastUsedAt == first + 61);
}

TEST_CASE("the token secret never reaches the SQLite file", "[store][users]") {
  if (calgate::test::usingPostgres()) SUCCEED("the raw-file scan applies to SQLite");
  Fixture f;
  auto created = f.users.addUser("erin@example.com", "default");
  REQUIRE(created);
  const std::string secret = created->second.secret;
  if (f.t.dialect() == Dialect::Sqlite) {
    f.t.close();
    std::string raw = calgate::test::readFile(f.t.sqliteFile());
    raw += calgate::test::readFile(f.t.sqliteFile().string() + "-wal");
    CHECK(raw.size() > 0);
    CHECK(raw.find(secret) == std::string::npos);
    CHECK(raw.find(secret.substr(4)) == std::string::npos);
    CHECK(raw.find(core::sha256Hex(secret)) != std::string::npos);
  }
}

TEST_CASE("the store recovers by itself when the database server restarts", "[store][reconnect]") {
  const char* restart = std::getenv("CG_TEST_POSTGRES_CONTROL");
  if (!calgate::test::usingPostgres() || !restart) {
    SUCCEED("needs the PostgreSQL test cluster (an SQLite file does not restart)");
    return;
  }
  Fixture f;
  auto created = f.users.addUser("frank@example.com", "default");
  REQUIRE(created);
  {
    // put every pooled connection to use, so all of them are cut by the restart
    std::vector<Database::Session> held;
    for (int i = 0; i < 4; ++i) {
      auto s = f.t.db().acquire();
      REQUIRE(s);
      int one = 0;
      **s << "SELECT 1", soci::into(one);
      REQUIRE(countUsers(f.t.db(), **s) == 1);  // a statement kept prepared on this connection
      held.push_back(std::move(*s));
    }
  }
  REQUIRE(std::system(restart) == 0);
  // the first unit of work finds its connection dead; the session reconnects without its cached
  // statements (they named the old connection's prepared statements) and the work runs again
  auto counted = f.t.db().withSession([&](soci::session& sql) -> core::Result<long long> { return countUsers(f.t.db(), sql); });
  INFO((counted ? std::string() : counted.error().message));
  REQUIRE(counted);
  CHECK(*counted == 1);
  for (int i = 0; i < 10; ++i) {
    auto p = f.users.authenticate(created->second.secret);
    INFO("attempt " << i << ": " << (p ? std::string() : p.error().message));
    CHECK(p);
  }
  CHECK(f.t.db().ping());
  CHECK(f.users.addUser("grace@example.com", "default"));
}

TEST_CASE("retention: revoked tokens go after their period; live ones stay", "[store][users]") {
  Fixture f;
  auto user = f.users.addUser("old@example.com", "first");
  REQUIRE(user);
  auto second = f.users.issueToken("old@example.com", "second");
  REQUIRE(second);
  REQUIRE(f.users.revokeToken(second->token.id));
  const long long now = f.clock.nowUnixSeconds();
  auto gone = f.users.purgeRevokedTokens(now - 90 * 86400);
  REQUIRE(gone);
  CHECK(*gone == 0);
  f.clock.t += std::chrono::hours(24 * 91);
  gone = f.users.purgeRevokedTokens(f.clock.nowUnixSeconds() - 90 * 86400);
  REQUIRE(gone);
  CHECK(*gone == 1);
  auto tokens = f.users.listTokens("old@example.com");
  REQUIRE(tokens);
  REQUIRE(tokens->size() == 1);
  CHECK(tokens->front().label == "first");
  CHECK(f.users.authenticate(user->second.secret));
}
