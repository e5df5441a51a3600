#pragma once
// The benchmarks' database: SQLite in a directory, or an emptied PostgreSQL database.
#include "bench_support.hpp"
#include "calgate/core/clock.hpp"
#include "calgate/store/database.hpp"
#include "calgate/store/migrator.hpp"

#include <soci/soci.h>

#include <filesystem>
#include <memory>
#include <string>

namespace calgate::bench {

/// A migrated, empty database: SQLite in `dir` when `postgresUrl` is "", else that PostgreSQL
/// database with everything in it dropped first.
inline std::unique_ptr<store::Database> freshDatabase(const std::string& postgresUrl, const std::filesystem::path& dir,
                                                      std::size_t sessions) {
  auto target = must(store::resolveDatabaseUrl(postgresUrl, dir), "database url");
  auto db = must(store::Database::open(target, sessions), "open database");
  if (!postgresUrl.empty()) {
    must(db->withSession([](soci::session& sql) -> core::Result<bool> {
      sql << "DROP SCHEMA public CASCADE";
      sql << "CREATE SCHEMA public";
      return true;
    }), "reset database");
  }
  must(store::Migrator(*db, store::builtinMigrations(db->dialect()), core::systemClock()).migrate(), "migrate");
  return db;
}

}  // namespace calgate::bench
