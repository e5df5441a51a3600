#pragma once
/// The database seam: a pool of SOCI sessions over SQLite (embedded default) or PostgreSQL,
/// chosen by URL. Repositories borrow a session for the length of one unit of work.

#include "calgate/core/error.hpp"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace soci {
class session;
class connection_pool;
}  // namespace soci

namespace calgate::store {

class StatementCache;

enum class Dialect { Sqlite, Postgresql };

/// The `database:` section of the configuration.
struct DatabaseConfig {
  /// sqlite:///abs/path.db, sqlite://relative/path.db, sqlite::memory:, or postgresql://...
  /// Empty means the default: sqlite://<data_dir>/calgate.db.
  std::string url;
  bool autoMigrate = true;
  unsigned poolSize = 4;
};

/// Where the database is and how to reach it.
struct DatabaseTarget {
  Dialect dialect = Dialect::Sqlite;
  std::string connectString;  ///< what SOCI's backend receives (may hold a password: never log it)
  std::string displayName;    ///< safe to print: the password, if any, is replaced by "***"
  std::filesystem::path sqliteFile;  ///< SQLite only; empty for :memory:
};

/// Resolves a database URL:
///   ""                       -> sqlite://<dataDir>/calgate.db
///   sqlite:///abs/file.db    -> absolute path;  sqlite://rel/file.db -> relative to the working directory
///   sqlite::memory:          -> private in-memory database (pool of one session)
///   postgresql://... / postgres://...  -> handed to libpq unchanged
/// Errors: Invalid with a message that never repeats a password.
core::Result<DatabaseTarget> resolveDatabaseUrl(const std::string& url, const std::filesystem::path& dataDir);

/// A pool of open sessions. Thread-safe: any thread may acquire a session.
class Database {
 public:
  /// A borrowed session, returned to the pool when destroyed.
  class Session {
   public:
    Session(Session&& other) noexcept;
    Session& operator=(Session&&) = delete;
    ~Session();
    soci::session& operator*() const;
    soci::session* operator->() const;

   private:
    friend class Database;
    Session(soci::connection_pool* pool, std::size_t index);
    soci::connection_pool* pool_;
    std::size_t index_;
  };

  /// Opens `poolSize` sessions (1 for an in-memory SQLite database). For SQLite, creates the
  /// parent directory (mode 0700), enables foreign keys, WAL and a busy timeout.
  /// Errors: Unavailable when the server cannot be reached or the file cannot be opened.
  static core::Result<std::unique_ptr<Database>> open(const DatabaseTarget& target, unsigned poolSize);

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Dialect dialect() const { return target_.dialect; }
  /// Where the pool connects, for connections of their own (ChangeListener). connectString may
  /// hold a password: never log it.
  const DatabaseTarget& target() const { return target_; }
  const std::string& displayName() const { return target_.displayName; }

  /// Borrows a session, waiting up to `timeout`. Unavailable when none frees up in time. A
  /// session whose connection is known to be broken is reconnected first.
  core::Result<Session> acquire(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  /// Runs one unit of work (`work(session)` returning a core::Result<T>) on a borrowed session.
  /// A database exception becomes an error value: Conflict for a constraint violation, else
  /// Unavailable; its message is the driver's, without the statement or bound values (which may
  /// hold secrets or their hashes). If the connection turns out to be lost (server restart,
  /// network), the session reconnects and the work runs once more, so `work` must not have
  /// committed anything before it throws (use one transaction per unit of work).
  template <class Work>
  auto withSession(Work&& work) -> std::invoke_result_t<Work&, soci::session&> {
    std::optional<std::invoke_result_t<Work&, soci::session&>> result;
    auto ran = runWithSession([&](soci::session& s) { result.emplace(work(s)); });
    if (!ran) return std::unexpected(ran.error());
    return std::move(*result);
  }

  /// Executes a script of several SQL statements through the driver's native multi-statement
  /// call (sqlite3_exec / PQexec): no bind-parameter parsing, triggers and functions intact.
  /// Throws on failure (use inside withSession).
  void executeScript(soci::session& session, const std::string& script) const;

  /// Runs a trivial query; on failure reconnects once. Unavailable with the reason otherwise.
  core::Result<void> ping();

  /// The prepared statements kept on `session`, one of this pool's (see statement_cache.hpp).
  /// Only for the thread that holds the session, inside withSession.
  StatementCache& statementCache(soci::session& session);

 private:
  Database(DatabaseTarget target, std::unique_ptr<soci::connection_pool> pool, unsigned size);
  core::Result<void> runWithSession(const std::function<void(soci::session&)>& work);
  bool connectionLost(soci::session& session) const;
  void revive(soci::session& session);
  DatabaseTarget target_;
  std::unique_ptr<soci::connection_pool> pool_;
  unsigned size_;
  // one per pooled session, by pool index; declared after pool_ so the statements go first
  std::vector<std::unique_ptr<StatementCache>> caches_;
};

}  // namespace calgate::store
