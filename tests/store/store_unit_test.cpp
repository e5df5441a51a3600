// Pure parts of the store: URL resolution, migration sets.
#include "calgate/store/database.hpp"
#include "calgate/store/migrator.hpp"

#include <catch2/catch.hpp>

using namespace calgate::store;

TEST_CASE("database URLs resolve to a dialect and a printable name without the password", "[store]") {
  auto d = resolveDatabaseUrl("", "/var/lib/calgate");
  REQUIRE(d);
  CHECK(d->dialect == Dialect::Sqlite);
  CHECK(d->sqliteFile == "/var/lib/calgate/calgate.db");
  CHECK(d->displayName == "sqlite:///var/lib/calgate/calgate.db");

  auto rel = resolveDatabaseUrl("sqlite://state/x.db", "ignored");
  REQUIRE(rel);
  CHECK(rel->sqliteFile == "state/x.db");

  auto pg = resolveDatabaseUrl("postgresql://cal:s3cret@db.internal:5432/calgate?sslmode=require", "");
  REQUIRE(pg);
  CHECK(pg->dialect == Dialect::Postgresql);
  CHECK_THAT(pg->connectString, Catch::Contains("host='db.internal'") && Catch::Contains("port='5432'") &&
                                    Catch::Contains("dbname='calgate'") && Catch::Contains("user='cal'") &&
                                    Catch::Contains("password='s3cret'") && Catch::Contains("sslmode='require'"));
  CHECK(pg->displayName == "postgresql://cal:***@db.internal:5432/calgate?sslmode=require");

  auto query = resolveDatabaseUrl("postgres://db/calgate?user=cal&password=s3cret&sslmode=require", "");
  REQUIRE(query);
  CHECK(query->displayName == "postgres://db/calgate?user=cal&password=***&sslmode=require");

  CHECK_FALSE(resolveDatabaseUrl("mysql://x", ""));
  auto broken = resolveDatabaseUrl("postgresql://cal:s3cret@db/x?nosuchoption=1", "");
  REQUIRE_FALSE(broken);
  CHECK_THAT(broken.error().message, !Catch::Contains("s3cret"));
  CHECK_FALSE(resolveDatabaseUrl("sqlite://", ""));
}

TEST_CASE("both dialects ship the same numbered migrations, with no gaps", "[store]") {
  const auto sqlite = builtinMigrations(Dialect::Sqlite);
  const auto pg = builtinMigrations(Dialect::Postgresql);
  REQUIRE(!sqlite.empty());
  REQUIRE(sqlite.size() == pg.size());
  for (std::size_t i = 0; i < sqlite.size(); ++i) {
    CHECK(sqlite[i].version == static_cast<int>(i) + 1);
    CHECK(pg[i].version == sqlite[i].version);
    CHECK(pg[i].name == sqlite[i].name);
    CHECK(sqlite[i].checksum.size() == 64);
  }
}
