#pragma once
// A private database for one test (support/test_database.hpp) with every migration applied, a
// fake clock, and a row counter for checks on what was stored.
#include "calgate/store/migrator.hpp"
#include "fakes/fake_clock.hpp"
#include "support/test_database.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include <string>

namespace calgate::test {

struct MigratedDatabase {
  TestDatabase t;
  FakeClock clock{core::TimePoint(std::chrono::seconds(1'800'000'000))};

  MigratedDatabase() {
    REQUIRE(store::Migrator(t.db(), store::builtinMigrations(t.dialect()), clock).migrate());
  }

  /// The single number `sql` (a SELECT COUNT(*) ...) returns.
  long long count(const std::string& sql) {
    long long n = 0;
    REQUIRE(t.db().withSession([&](soci::session& s) -> core::Result<void> {
      s << sql, soci::into(n);
      return {};
    }));
    return n;
  }
};

}  // namespace calgate::test
