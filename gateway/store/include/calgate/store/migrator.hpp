#pragma once
/// Versioned schema migrations (schemas/sql/<dialect>/NNNN_name.sql, embedded at build time).
/// Each migration runs in its own transaction and is recorded in `schema_migrations` with a
/// SHA-256 checksum, so an edited migration or a schema newer than this binary is detected.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace calgate::store {

struct Migration {
  int version = 0;
  std::string name;
  std::string sql;
  std::string checksum;  ///< hex SHA-256 of `sql`
};

/// The migrations compiled into this binary for `dialect`, in version order.
std::vector<Migration> builtinMigrations(Dialect dialect);

/// Builds a Migration from its parts (computes the checksum). For tests and tools.
Migration makeMigration(int version, std::string name, std::string sql);

struct MigrationState {
  int version = 0;
  std::string name;
  std::optional<long long> appliedAt;  ///< Unix seconds; empty = pending
  bool checksumMismatch = false;       ///< applied, but the binary's SQL differs
};

struct SchemaStatus {
  std::vector<MigrationState> known;   ///< every migration this binary has, applied or pending
  std::vector<int> unknownApplied;     ///< applied versions this binary does not know (a newer calgate ran)
  int latestKnown = 0;

  std::vector<MigrationState> pending() const;
  bool current() const;  ///< nothing pending, nothing unknown, nothing modified
  /// Why the schema is not current (empty when it is).
  std::string problem() const;
};

/// Applies and inspects migrations. Not thread-safe; concurrent processes are serialised by a
/// database lock (PostgreSQL advisory lock, SQLite BEGIN IMMEDIATE).
class Migrator {
 public:
  Migrator(Database& db, std::vector<Migration> migrations, const core::Clock& clock);

  /// Reads what is applied. Unavailable when the database cannot be read.
  core::Result<SchemaStatus> status();

  /// Applies every pending migration in order; `onApply` is told before each one runs.
  /// Refuses (Conflict) when the database holds migrations this binary does not know or applied
  /// migrations whose checksum differs. A failing migration is rolled back completely and reported
  /// (Internal, naming the migration and statement); migrations before it stay applied.
  /// Returns the versions applied (empty when already current).
  core::Result<std::vector<int>> migrate(const std::function<void(const Migration&)>& onApply = {});

  /// Ok when the schema is exactly what this binary expects; otherwise Conflict with the reason.
  core::Result<void> verifyCurrent();

 private:
  Database& db_;
  std::vector<Migration> migrations_;
  const core::Clock& clock_;
};

}  // namespace calgate::store
