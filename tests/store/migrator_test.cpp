// Runs against SQLite, or PostgreSQL when CG_TEST_POSTGRES_URL_FILE is set (see tests/CMakeLists.txt).
#include "calgate/core/clock.hpp"
#include "calgate/store/migrator.hpp"
#include "support/test_database.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include <algorithm>
#include <cctype>

using namespace calgate;
using namespace calgate::store;
using calgate::test::TestDatabase;

namespace {

bool tableExists(Database& db, const std::string& table) {
  auto s = db.acquire();
  int n = 0;
  if (db.dialect() == Dialect::Sqlite) {
    **s << "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = :t", soci::use(table), soci::into(n);
  } else {
    **s << "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = :t",
        soci::use(table), soci::into(n);
  }
  return n > 0;
}

std::vector<std::string> columnsOf(Database& db, const std::string& table) {
  auto s = db.acquire();
  std::vector<std::string> out;
  std::string name;
  if (db.dialect() == Dialect::Sqlite) {
    soci::statement st = ((*s)->prepare << "SELECT name FROM pragma_table_info(:t)", soci::use(table), soci::into(name));
    st.execute();
    while (st.fetch()) out.push_back(name);
  } else {
    soci::statement st = ((*s)->prepare << "SELECT column_name FROM information_schema.columns "
                                           "WHERE table_schema = 'public' AND table_name = :t",
                          soci::use(table), soci::into(name));
    st.execute();
    while (st.fetch()) out.push_back(name);
  }
  return out;
}

const std::vector<std::string> kTables = {"users",         "api_tokens", "accounts",      "calendars",    "pairs",
                                          "cursors",       "mappings",   "subscriptions", "jobs",         "org_policies",
                                          "audit_log",     "feeds",      "deletion_audit"};

}  // namespace

TEST_CASE("a fresh database has every migration pending; migrate applies them once", "[store][migrations]") {
  TestDatabase t;
  Migrator m(t.db(), builtinMigrations(t.dialect()), core::systemClock());
  auto before = m.status();
  REQUIRE(before);
  CHECK_FALSE(before->current());
  CHECK(before->pending().size() == before->known.size());
  CHECK_THAT(before->problem(), Catch::Contains("pending") && Catch::Contains("calgate-admin db migrate"));
  CHECK_FALSE(m.verifyCurrent());

  std::vector<int> announced;
  auto applied = m.migrate([&](const Migration& mig) { announced.push_back(mig.version); });
  INFO((applied ? std::string() : applied.error().message));
  REQUIRE(applied);
  CHECK(*applied == announced);
  CHECK(applied->front() == 1);

  auto after = m.status();
  REQUIRE(after);
  CHECK(after->current());
  CHECK(after->pending().empty());
  CHECK(after->known.front().appliedAt.has_value());
  CHECK(m.verifyCurrent());

  auto again = m.migrate();
  REQUIRE(again);
  CHECK(again->empty());
}

TEST_CASE("the first migration creates the whole data model and no event-content column", "[store][migrations]") {
  TestDatabase t;
  Migrator m(t.db(), builtinMigrations(t.dialect()), core::systemClock());
  REQUIRE(m.migrate());
  const std::vector<std::string> forbidden = {"title", "summary", "subject", "description", "body",
                                              "location", "attendee", "attendees"};
  for (const auto& table : kTables) {
    INFO(table);
    REQUIRE(tableExists(t.db(), table));
    for (const auto& column : columnsOf(t.db(), table)) {
      std::string lower = column;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      INFO(table + "." + column);
      for (const auto& word : forbidden) CHECK(lower.find(word) == std::string::npos);
    }
  }
  const auto accountColumns = columnsOf(t.db(), "accounts");
  CHECK(std::find(accountColumns.begin(), accountColumns.end(), "credential_ciphertext") != accountColumns.end());
}

TEST_CASE("the schema enforces its invariants", "[store][migrations]") {
  TestDatabase t;
  Migrator m(t.db(), builtinMigrations(t.dialect()), core::systemClock());
  REQUIRE(m.migrate());
  auto s = t.db().acquire();
  **s << "INSERT INTO users (id, email, created_at) VALUES ('u1', 'a@b.c', 1)";
  // unique email
  CHECK_THROWS(**s << "INSERT INTO users (id, email, created_at) VALUES ('u2', 'a@b.c', 1)");
  // foreign keys are enforced (SQLite needs PRAGMA foreign_keys, which Database::open sets)
  CHECK_THROWS(**s << "INSERT INTO api_tokens (id, user_id, token_sha256, created_at) VALUES ('t1', 'nobody', 'h', 1)");
  // CHECK constraints
  CHECK_THROWS(**s << "INSERT INTO accounts (id, user_id, provider, email, domain, credential_ciphertext, "
                      "credential_key_id, created_at, updated_at) VALUES ('a1', 'u1', 'myspace', 'x@y.z', 'y.z', 'c', 'k', 1, 1)");
  // cascade: deleting a user removes its tokens
  **s << "INSERT INTO api_tokens (id, user_id, token_sha256, created_at) VALUES ('t1', 'u1', 'h', 1)";
  **s << "DELETE FROM users WHERE id = 'u1'";
  int tokens = -1;
  **s << "SELECT COUNT(*) FROM api_tokens", soci::into(tokens);
  CHECK(tokens == 0);
  // at most one queued job per coalesce key
  **s << "INSERT INTO jobs (id, kind, coalesce_key, state, run_at, created_at, updated_at) "
         "VALUES ('j1', 'pull', 'pair:1', 'queued', 1, 1, 1)";
  CHECK_THROWS(**s << "INSERT INTO jobs (id, kind, coalesce_key, state, run_at, created_at, updated_at) "
                      "VALUES ('j2', 'pull', 'pair:1', 'queued', 1, 1, 1)");
  **s << "INSERT INTO jobs (id, kind, coalesce_key, state, run_at, created_at, updated_at) "
         "VALUES ('j3', 'pull', 'pair:1', 'done', 1, 1, 1)";
}

TEST_CASE("a write the schema refuses is a Conflict with its cause; other failures are not", "[store][errors]") {
  TestDatabase t;
  REQUIRE(Migrator(t.db(), builtinMigrations(t.dialect()), core::systemClock()).migrate());
  auto run = [&](const std::string& statement) {
    return t.db().withSession([&](soci::session& s) -> core::Result<void> {
      s << statement;
      return {};
    });
  };
  REQUIRE(run("INSERT INTO users (id, email, created_at) VALUES ('u1', 'a@b.c', 1)"));
  for (const std::string refused : {
           "INSERT INTO users (id, email, created_at) VALUES ('u2', 'a@b.c', 1)",                     // unique
           "INSERT INTO api_tokens (id, user_id, token_sha256, created_at) VALUES ('t', 'nobody', 'h', 1)",  // foreign key
           "INSERT INTO users (id, email, created_at) VALUES ('u3', NULL, 1)",                        // not null
           "INSERT INTO accounts (id, user_id, provider, email, domain, credential_ciphertext, credential_key_id, "
           "created_at, updated_at) VALUES ('a1', 'u1', 'myspace', 'x@y.z', 'y.z', 'c', 'k', 1, 1)",  // check
       }) {
    INFO(refused);
    auto r = run(refused);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::ErrorCode::Conflict);
    CHECK(r.error().cause == core::Cause::ConstraintViolated);
  }
  auto broken = run("SELECT no_such_column FROM users");
  REQUIRE_FALSE(broken);
  CHECK(broken.error().code == core::ErrorCode::Unavailable);
  CHECK(broken.error().cause == core::Cause::None);
}

TEST_CASE("a failing migration is rolled back completely and reported", "[store][migrations]") {
  TestDatabase t;
  auto migrations = builtinMigrations(t.dialect());
  const int next = migrations.back().version + 1;
  migrations.push_back(makeMigration(next, "broken",
                                     "CREATE TABLE half_done (id TEXT PRIMARY KEY);\n"
                                     "INSERT INTO half_done (id) VALUES ('x');\n"
                                     "INSERT INTO no_such_table (id) VALUES ('y');\n"));
  Migrator m(t.db(), migrations, core::systemClock());
  auto result = m.migrate();
  REQUIRE_FALSE(result);
  CHECK(result.error().code == core::ErrorCode::Internal);
  CHECK_THAT(result.error().message, Catch::Contains(std::to_string(next) + "_broken failed") &&
                                         Catch::Contains("no_such_table") && Catch::Contains("rolled back"));
  CHECK_FALSE(tableExists(t.db(), "half_done"));
  // earlier migrations stay applied, the broken one stays pending
  auto status = m.status();
  REQUIRE(status);
  CHECK(status->known.front().appliedAt.has_value());
  REQUIRE(status->pending().size() == 1);
  CHECK(status->pending().front().version == next);
  CHECK(tableExists(t.db(), "users"));
}

TEST_CASE("migrations may hold triggers, functions, quotes and colons", "[store][migrations]") {
  TestDatabase t;
  auto migrations = builtinMigrations(t.dialect());
  const int next = migrations.back().version + 1;
  // An append-only guard of the kind the audit log will use: statements with inner semicolons.
  const std::string sqlite =
      "CREATE TABLE ledger (id INTEGER PRIMARY KEY, note TEXT NOT NULL DEFAULT 'a;b:c');\n"
      "CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger BEGIN\n"
      "  SELECT RAISE(ABORT, 'ledger is append-only; no updates');\n"
      "END;\n";
  const std::string postgresql =
      "CREATE TABLE ledger (id INTEGER PRIMARY KEY, note TEXT NOT NULL DEFAULT 'a;b:c');\n"
      "CREATE FUNCTION ledger_guard() RETURNS trigger LANGUAGE plpgsql AS $$\n"
      "BEGIN RAISE EXCEPTION 'ledger is append-only; no updates'; END; $$;\n"
      "CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger FOR EACH ROW EXECUTE FUNCTION ledger_guard();\n";
  migrations.push_back(makeMigration(next, "ledger", t.dialect() == Dialect::Sqlite ? sqlite : postgresql));
  Migrator m(t.db(), migrations, core::systemClock());
  auto applied = m.migrate();
  INFO((applied ? std::string() : applied.error().message));
  REQUIRE(applied);
  auto s = t.db().acquire();
  **s << "INSERT INTO ledger (id) VALUES (1)";
  std::string note;
  **s << "SELECT note FROM ledger WHERE id = 1", soci::into(note);
  CHECK(note == "a;b:c");
  CHECK_THROWS(**s << "UPDATE ledger SET note = 'x'");
}

TEST_CASE("reading the status runs no DDL", "[store][migrations]") {
  TestDatabase t;
  Migrator m(t.db(), builtinMigrations(t.dialect()), core::systemClock());
  REQUIRE(m.status());
  REQUIRE(m.status());
  CHECK_FALSE(tableExists(t.db(), "schema_migrations"));
}

TEST_CASE("a schema newer than the binary is refused, and so is an edited migration", "[store][migrations]") {
  TestDatabase t;
  auto migrations = builtinMigrations(t.dialect());
  {
    Migrator m(t.db(), migrations, core::systemClock());
    REQUIRE(m.migrate());
  }
  SECTION("newer") {
    auto s = t.db().acquire();
    **s << "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (999, 'future', 'x', 1)";
    Migrator m(t.db(), migrations, core::systemClock());
    auto status = m.status();
    REQUIRE(status);
    CHECK(status->unknownApplied == std::vector<int>{999});
    CHECK_THAT(status->problem(), Catch::Contains("version 999") && Catch::Contains("knows migrations up to"));
    auto result = m.migrate();
    REQUIRE_FALSE(result);
    CHECK(result.error().code == core::ErrorCode::Conflict);
    CHECK_FALSE(m.verifyCurrent());
  }
  SECTION("edited") {
    migrations.front() = makeMigration(1, migrations.front().name, migrations.front().sql + "\n-- edited\n");
    Migrator m(t.db(), migrations, core::systemClock());
    auto result = m.migrate();
    REQUIRE_FALSE(result);
    CHECK_THAT(result.error().message, Catch::Contains("was applied with different SQL"));
  }
}
