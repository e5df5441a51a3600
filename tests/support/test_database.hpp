#pragma once
// A private, empty database for one test: a temporary SQLite file, or - when the environment
// variable CG_TEST_POSTGRES_URL_FILE names a file holding the URL of a test cluster (written by
// tests/services/postgres.sh) - a freshly created PostgreSQL database, dropped afterwards.

#include "calgate/store/database.hpp"
#include "support/temp_dir.hpp"

#include <memory>
#include <string>

namespace calgate::test {

class TestDatabase {
 public:
  TestDatabase();
  ~TestDatabase();

  store::Dialect dialect() const { return dialect_; }
  /// A database URL calgate accepts (for config files of spawned binaries).
  const std::string& url() const { return url_; }
  /// An open pool on it (pool size 4).
  store::Database& db();
  /// Closes the pool (e.g. before a spawned process uses the database).
  void close() { db_.reset(); }
  /// The SQLite file, for raw scans (empty for PostgreSQL).
  std::filesystem::path sqliteFile() const;

 private:
  store::Dialect dialect_ = store::Dialect::Sqlite;
  TempDir dir_;
  std::string url_;
  std::string adminUrl_;
  std::string name_;
  std::unique_ptr<store::Database> db_;
};

/// True when the PostgreSQL variant is selected.
bool usingPostgres();

}  // namespace calgate::test
