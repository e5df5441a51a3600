#include "calgate/gateway/store/migrator.hpp"

#include "calgate/core/hash.hpp"
#include "store/embedded_migrations.hpp"
#include "store/sql_script.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <map>

namespace calgate::gateway {
using core::ErrorCode;
using core::fail;

namespace {

constexpr long long kMigrationLockKey = 0x63616c67617465;  // "calgate"

struct AppliedRow {
  std::string name;
  std::string checksum;
  long long appliedAt = 0;
};

void ensureBookkeeping(soci::session& sql) {
  sql << "CREATE TABLE IF NOT EXISTS schema_migrations ("
         "version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)";
}

std::map<int, AppliedRow> readApplied(soci::session& sql) {
  std::map<int, AppliedRow> applied;
  int version = 0;
  AppliedRow row;
  soci::statement st = (sql.prepare << "SELECT version, name, checksum, applied_at FROM schema_migrations",
                        soci::into(version), soci::into(row.name), soci::into(row.checksum),
                        soci::into(row.appliedAt));
  st.execute();
  while (st.fetch()) applied[version] = row;
  return applied;
}

void begin(soci::session& sql, Dialect dialect) {
  if (dialect == Dialect::Sqlite) {
    sql << "BEGIN IMMEDIATE";
  } else {
    sql << "BEGIN";
    sql << "SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLockKey) + ")";
  }
}

void rollbackQuietly(soci::session& sql) {
  try {
    sql << "ROLLBACK";
  } catch (const std::exception&) {
    // the transaction is already gone (connection lost); nothing was committed
  }
}

std::string firstLine(const std::string& text) {
  auto line = text.substr(0, text.find('\n'));
  if (line.size() > 120) line = line.substr(0, 117) + "...";
  return line;
}

}  // namespace

Migration makeMigration(int version, std::string name, std::string sql) {
  Migration m{version, std::move(name), std::move(sql), {}};
  m.checksum = core::sha256Hex(m.sql);
  return m;
}

std::vector<Migration> builtinMigrations(Dialect dialect) {
  std::vector<Migration> out;
  const std::string_view wanted = dialect == Dialect::Sqlite ? "sqlite" : "postgresql";
  for (std::size_t i = 0; i < detail::kEmbeddedMigrationCount; ++i) {
    const auto& e = detail::kEmbeddedMigrations[i];
    if (e.dialect == wanted) out.push_back(makeMigration(e.version, std::string(e.name), std::string(e.sql)));
  }
  std::sort(out.begin(), out.end(), [](const Migration& a, const Migration& b) { return a.version < b.version; });
  return out;
}

std::vector<MigrationState> SchemaStatus::pending() const {
  std::vector<MigrationState> out;
  for (const auto& m : known) {
    if (!m.appliedAt) out.push_back(m);
  }
  return out;
}

bool SchemaStatus::current() const { return problem().empty(); }

std::string SchemaStatus::problem() const {
  if (!unknownApplied.empty()) {
    return "database schema is at version " + std::to_string(unknownApplied.back()) +
           " but this calgate knows migrations up to " + std::to_string(latestKnown) +
           "; run a calgate at least as new as the one that migrated it";
  }
  for (const auto& m : known) {
    if (m.checksumMismatch) {
      return "migration " + std::to_string(m.version) + "_" + m.name +
             " was applied with different SQL than this calgate has; the migration files were edited";
    }
  }
  const auto p = pending();
  if (!p.empty()) {
    return std::to_string(p.size()) + " migration(s) pending, first " + std::to_string(p.front().version) + "_" +
           p.front().name + "; run calgate-admin db migrate";
  }
  return {};
}

Migrator::Migrator(Database& db, std::vector<Migration> migrations, const core::Clock& clock)
    : db_(db), migrations_(std::move(migrations)), clock_(clock) {
  std::sort(migrations_.begin(), migrations_.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
}

core::Result<SchemaStatus> Migrator::status() {
  auto session = db_.acquire();
  if (!session) return std::unexpected(session.error());
  std::map<int, AppliedRow> applied;
  try {
    ensureBookkeeping(**session);
    applied = readApplied(**session);
  } catch (const std::exception& e) {
    return fail(ErrorCode::Unavailable, std::string("cannot read schema_migrations: ") + e.what());
  }
  SchemaStatus status;
  for (const auto& m : migrations_) {
    MigrationState state{m.version, m.name, std::nullopt, false};
    if (auto it = applied.find(m.version); it != applied.end()) {
      state.appliedAt = it->second.appliedAt;
      state.checksumMismatch = it->second.checksum != m.checksum;
      applied.erase(it);
    }
    status.known.push_back(state);
    status.latestKnown = std::max(status.latestKnown, m.version);
  }
  for (const auto& [version, row] : applied) status.unknownApplied.push_back(version);
  return status;
}

core::Result<std::vector<int>> Migrator::migrate(const std::function<void(const Migration&)>& onApply) {
  auto initial = status();
  if (!initial) return std::unexpected(initial.error());
  if (!initial->unknownApplied.empty() ||
      std::any_of(initial->known.begin(), initial->known.end(), [](const auto& m) { return m.checksumMismatch; })) {
    return fail(ErrorCode::Conflict, initial->problem());
  }

  auto session = db_.acquire();
  if (!session) return std::unexpected(session.error());
  soci::session& sql = **session;
  std::vector<int> appliedNow;
  for (const auto& m : migrations_) {
    const std::string label = std::to_string(m.version) + "_" + m.name;
    std::size_t statementIndex = 0;
    std::string statementText;
    try {
      begin(sql, db_.dialect());
      // Re-check under the lock: another process may have applied it meanwhile.
      int already = 0;
      sql << "SELECT COUNT(*) FROM schema_migrations WHERE version = :v", soci::use(m.version), soci::into(already);
      if (already > 0) {
        sql << "COMMIT";
        continue;
      }
      if (onApply) onApply(m);
      const auto statements = detail::splitSqlScript(m.sql);
      for (const auto& statement : statements) {
        ++statementIndex;
        statementText = statement;
        sql << statement;
      }
      statementIndex = 0;
      const long long now = clock_.nowUnixSeconds();
      sql << "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (:v, :n, :c, :t)",
          soci::use(m.version), soci::use(m.name), soci::use(m.checksum), soci::use(now);
      sql << "COMMIT";
      appliedNow.push_back(m.version);
    } catch (const std::exception& e) {
      rollbackQuietly(sql);
      std::string where = statementIndex > 0 ? " at statement " + std::to_string(statementIndex) + " (" +
                                                   firstLine(statementText) + ")"
                                             : "";
      return fail(ErrorCode::Internal, "migration " + label + " failed" + where + ": " + firstLine(e.what()) +
                                           "; it was rolled back, the schema is at the previous version");
    }
  }
  return appliedNow;
}

core::Result<void> Migrator::verifyCurrent() {
  auto s = status();
  if (!s) return std::unexpected(s.error());
  if (!s->current()) return fail(ErrorCode::Conflict, s->problem());
  return {};
}

}  // namespace calgate::gateway
