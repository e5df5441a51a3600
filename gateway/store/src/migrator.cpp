#include "calgate/store/migrator.hpp"

#include "calgate/core/hash.hpp"
#include "calgate/store/transaction.hpp"
#include "embedded_migrations.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <map>

namespace calgate::store {
using core::ErrorCode;
using core::fail;

namespace {

constexpr long long kMigrationLockKey = 0x63616c67617465;  // "calgate"

struct AppliedRow {
  std::string name;
  std::string checksum;
  long long appliedAt = 0;
};

bool bookkeepingExists(soci::session& sql, Dialect dialect) {
  int n = 0;
  if (dialect == Dialect::Sqlite) {
    sql << "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'", soci::into(n);
  } else {
    sql << "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() "
           "AND table_name = 'schema_migrations'",
        soci::into(n);
  }
  return n > 0;
}

std::map<int, AppliedRow> readApplied(soci::session& sql, Dialect dialect) {
  std::map<int, AppliedRow> applied;
  if (!bookkeepingExists(sql, dialect)) return applied;  // nothing applied yet; status() runs no DDL
  int version = 0;
  AppliedRow row;
  soci::statement st = (sql.prepare << "SELECT version, name, checksum, applied_at FROM schema_migrations",
                        soci::into(version), soci::into(row.name), soci::into(row.checksum),
                        soci::into(row.appliedAt));
  st.execute();
  while (st.fetch()) applied[version] = row;
  return applied;
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
  auto applied = db_.withSession([&](soci::session& sql) -> core::Result<std::map<int, AppliedRow>> {
    return readApplied(sql, db_.dialect());
  });
  if (!applied) return std::unexpected(applied.error());
  SchemaStatus status;
  for (const auto& m : migrations_) {
    MigrationState state{m.version, m.name, std::nullopt, false};
    if (auto it = applied->find(m.version); it != applied->end()) {
      state.appliedAt = it->second.appliedAt;
      state.checksumMismatch = it->second.checksum != m.checksum;
      applied->erase(it);
    }
    status.known.push_back(state);
    status.latestKnown = std::max(status.latestKnown, m.version);
  }
  for (const auto& [version, row] : *applied) status.unknownApplied.push_back(version);
  return status;
}

core::Result<std::vector<int>> Migrator::migrate(const std::function<void(const Migration&)>& onApply) {
  auto initial = status();
  if (!initial) return std::unexpected(initial.error());
  if (!initial->unknownApplied.empty() ||
      std::any_of(initial->known.begin(), initial->known.end(), [](const auto& m) { return m.checksumMismatch; })) {
    return fail(ErrorCode::Conflict, initial->problem());
  }
  std::vector<int> appliedNow;
  for (const auto& m : migrations_) {
    const std::string label = std::to_string(m.version) + "_" + m.name;
    auto done = db_.withSession([&](soci::session& sql) -> core::Result<bool> {
      WriteTransaction tx(sql, db_.dialect());
      if (db_.dialect() == Dialect::Postgresql) {
        // Serialises concurrent migrators (several gateway processes starting at once).
        sql << "SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLockKey) + ")";
      }
      sql << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
             "checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)";
      int already = 0;  // re-checked under the lock: another process may have applied it meanwhile
      sql << "SELECT COUNT(*) FROM schema_migrations WHERE version = :v", soci::use(m.version), soci::into(already);
      if (already > 0) return false;
      if (onApply) onApply(m);
      db_.executeScript(sql, m.sql);
      const long long now = clock_.nowUnixSeconds();
      sql << "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (:v, :n, :c, :t)",
          soci::use(m.version), soci::use(m.name), soci::use(m.checksum), soci::use(now);
      tx.commit();
      return true;
    });
    if (!done) {
      return fail(ErrorCode::Internal, "migration " + label + " failed: " + done.error().message +
                                           "; it was rolled back, the schema is at the previous version");
    }
    if (*done) appliedNow.push_back(m.version);
  }
  return appliedNow;
}

core::Result<void> Migrator::verifyCurrent() {
  auto s = status();
  if (!s) return std::unexpected(s.error());
  if (!s->current()) return fail(ErrorCode::Conflict, s->problem());
  return {};
}

}  // namespace calgate::store
