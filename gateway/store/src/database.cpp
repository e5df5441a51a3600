#include "calgate/store/database.hpp"

#include "calgate/core/log.hpp"
#include "calgate/store/statement_cache.hpp"

#include <soci/connection-pool.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <libpq-fe.h>
#include <sys/stat.h>

#include <algorithm>

namespace calgate::store {
using core::ErrorCode;
using core::fail;

namespace {

// The driver's own classification, never its message: SQLSTATE class 23 on PostgreSQL (SOCI maps it
// to constraint_violation), the primary result code on SQLite, whose SOCI backend does not
// classify (UNIQUE, FOREIGN KEY, CHECK, NOT NULL and RAISE(ABORT) in a trigger all give
// SQLITE_CONSTRAINT).
bool isConstraintViolation(const soci::soci_error& e) {
  if (e.get_error_category() == soci::soci_error::constraint_violation) return true;
  if (const auto* lite = dynamic_cast<const soci::sqlite3_soci_error*>(&e)) {
    return (lite->result() & 0xff) == SQLITE_CONSTRAINT;
  }
  return false;
}

std::string redactPassword(const std::string& url) {
  // scheme://user:password@host... -> scheme://user:***@host...
  const auto schemeEnd = url.find("://");
  if (schemeEnd == std::string::npos) return url;
  const auto authorityStart = schemeEnd + 3;
  const auto at = url.find('@', authorityStart);
  const auto slash = url.find('/', authorityStart);
  std::string out = url;
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
    const auto colon = url.find(':', authorityStart);
    if (colon != std::string::npos && colon < at) out = url.substr(0, colon + 1) + "***" + url.substr(at);
  }
  // A password may also be passed as a query parameter.
  const auto pw = out.find("password=");
  if (pw != std::string::npos) {
    const auto end = out.find('&', pw);
    out = out.substr(0, pw) + "password=***" + (end == std::string::npos ? "" : out.substr(end));
  }
  return out;
}

// SOCI 4.0's PostgreSQL backend re-tokenises its connect string on whitespace and '=', which
// mangles libpq URIs; hand it libpq's keyword='value' form instead, built by libpq's own parser.
core::Result<std::string> postgresKeywordString(const std::string& url, const std::string& display) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (!options) {
    // libpq's reason can quote the offending part of the URL, password included: not repeated.
    if (error) PQfreemem(error);
    return fail(ErrorCode::Invalid, "database URL " + display +
                                        " is not a valid libpq connection URI (postgresql://user:password@host:port/dbname?param=value)");
  }
  std::string out;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (!o->val) continue;
    std::string value;
    for (const char* c = o->val; *c; ++c) {
      if (*c == '\\' || *c == '\'') value += '\\';
      value += *c;
    }
    out += (out.empty() ? "" : " ") + std::string(o->keyword) + "='" + value + "'";
  }
  PQconninfoFree(options);
  return out;
}

// libpq prints server notices (e.g. "relation already exists, skipping") to stderr, which would
// break the one-JSON-object-per-line log; route them through the logger instead.
void logPostgresNotice(void*, const char* message) {
  std::string text = message ? message : "";
  while (!text.empty() && text.back() == '\n') text.pop_back();
  core::log::debug("db.notice", {{"message", text}});
}

std::string sqliteConnectString(const std::string& file) {
  // SOCI's sqlite3 backend parses "key=value" pairs; quote the path so spaces survive.
  std::string quoted;
  for (char c : file) {
    if (c == '"') quoted += "\\\"";
    else quoted += c;
  }
  return "db=\"" + quoted + "\" timeout=5";
}

// Per-connection settings, applied after every (re)connect.
void configureSession(soci::session& s, const DatabaseTarget& target) {
  if (target.dialect == Dialect::Sqlite) {
    s << "PRAGMA foreign_keys = ON";
    s << "PRAGMA busy_timeout = 5000";
    if (!target.sqliteFile.empty()) {
      std::string mode;
      s << "PRAGMA journal_mode = WAL", soci::into(mode);
      s << "PRAGMA synchronous = NORMAL";
    }
    return;
  }
  // The session was opened with factory_postgresql(), so its backend is the PostgreSQL one
  // (SOCI does not export the backend's typeinfo, so dynamic_cast is not available).
  auto* backend = static_cast<soci::postgresql_session_backend*>(s.get_backend());
  PQsetNoticeProcessor(backend->conn_, logPostgresNotice, nullptr);
  s << "SET TIME ZONE 'UTC'";
}

}  // namespace

core::Result<DatabaseTarget> resolveDatabaseUrl(const std::string& url, const std::filesystem::path& dataDir) {
  DatabaseTarget target;
  if (url.empty()) {
    target.sqliteFile = dataDir / "calgate.db";
  } else if (url == "sqlite::memory:") {
    target.connectString = "db=:memory:";
    target.displayName = "sqlite::memory:";
    return target;
  } else if (url.starts_with("sqlite://")) {
    const std::string path = url.substr(9);
    if (path.empty() || path.back() == '/') {
      return fail(ErrorCode::Invalid, "database URL " + url + ": expected sqlite://PATH/TO/FILE.db");
    }
    target.sqliteFile = path;
  } else if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    target.dialect = Dialect::Postgresql;
    target.displayName = redactPassword(url);
    auto keywords = postgresKeywordString(url, target.displayName);
    if (!keywords) return std::unexpected(keywords.error());
    target.connectString = *keywords;
    return target;
  } else {
    return fail(ErrorCode::Invalid,
                "database URL must start with sqlite://, sqlite::memory:, postgresql:// or postgres://");
  }
  target.connectString = sqliteConnectString(target.sqliteFile.string());
  target.displayName = "sqlite://" + target.sqliteFile.string();
  return target;
}

Database::Session::Session(soci::connection_pool* pool, std::size_t index) : pool_(pool), index_(index) {}

Database::Session::Session(Session&& other) noexcept : pool_(other.pool_), index_(other.index_) {
  other.pool_ = nullptr;
}

Database::Session::~Session() {
  if (pool_) pool_->give_back(index_);
}

soci::session& Database::Session::operator*() const { return pool_->at(index_); }
soci::session* Database::Session::operator->() const { return &pool_->at(index_); }

Database::Database(DatabaseTarget target, std::unique_ptr<soci::connection_pool> pool, unsigned size)
    : target_(std::move(target)), pool_(std::move(pool)), size_(size) {
  for (unsigned i = 0; i < size_; ++i) caches_.push_back(std::make_unique<StatementCache>(target_.dialect));
}

Database::~Database() = default;

StatementCache& Database::statementCache(soci::session& session) {
  for (unsigned i = 0; i < size_; ++i) {
    if (&pool_->at(i) == &session) return *caches_[i];
  }
  throw soci::soci_error("statementCache: the session is not one of this pool's");
}

StatementCache::Entry* StatementCache::find(std::string_view query) const {
  const auto it = entries_.find(query);
  return it == entries_.end() ? nullptr : it->second.get();
}

StatementCache::Entry& StatementCache::keep(std::string_view query, std::unique_ptr<Entry> entry) {
  auto& slot = entries_[std::string(query)];
  slot = std::move(entry);
  return *slot;
}

void detail::resetAfterUse(soci::statement& statement, Dialect dialect) {
  if (dialect != Dialect::Sqlite) return;
  // SOCI's own reset() is not exported; its next execute() resets the statement again anyway
  auto* backend = static_cast<soci::sqlite3_statement_backend*>(statement.get_backend());
  if (backend && backend->stmt_) sqlite_api::sqlite3_reset(backend->stmt_);
}

core::Result<std::unique_ptr<Database>> Database::open(const DatabaseTarget& target, unsigned poolSize) {
  const bool memory = target.dialect == Dialect::Sqlite && target.sqliteFile.empty();
  const unsigned size = memory ? 1 : std::max(1u, poolSize);
  if (target.dialect == Dialect::Sqlite && !memory) {
    const auto parent = target.sqliteFile.parent_path();
    std::error_code ec;
    if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
      std::filesystem::create_directories(parent, ec);
      if (ec) {
        return fail(ErrorCode::Unavailable, "cannot create data directory " + parent.string() + ": " + ec.message());
      }
      ::chmod(parent.c_str(), 0700);
    }
  }
  auto pool = std::make_unique<soci::connection_pool>(size);
  try {
    for (std::size_t i = 0; i < size; ++i) {
      soci::session& s = pool->at(i);
      if (target.dialect == Dialect::Sqlite) {
        s.open(*soci::factory_sqlite3(), target.connectString);
      } else {
        s.open(*soci::factory_postgresql(), target.connectString);
      }
      configureSession(s, target);
    }
  } catch (const std::exception& e) {
    // libpq and SQLite messages name hosts and files, not passwords.
    return fail(ErrorCode::Unavailable, "cannot open database " + target.displayName + ": " + e.what());
  }
  if (target.dialect == Dialect::Sqlite && !memory) ::chmod(target.sqliteFile.c_str(), 0600);
  return std::unique_ptr<Database>(new Database(target, std::move(pool), size));
}

core::Result<Database::Session> Database::acquire(std::chrono::milliseconds timeout) {
  std::size_t index = 0;
  if (!pool_->try_lease(index, static_cast<int>(timeout.count()))) {
    return fail(ErrorCode::Unavailable, "all " + std::to_string(size_) + " database connections are busy");
  }
  Session session(pool_.get(), index);
  if (connectionLost(*session)) {
    try {
      revive(*session);
    } catch (const soci::soci_error&) {
      // still down: the work will fail with the driver's message
    }
  }
  return session;
}

// What libpq knows without asking the server. SOCI's is_connected() would send a query ("/* ping */"),
// a round trip before every unit of work (a quarter of the statements in a log of 40 sync runs). A
// connection that died unnoticed fails the work instead; libpq then reports it bad, and
// runWithSession reconnects that session and runs the work once more.
bool Database::connectionLost(soci::session& s) const {
  if (target_.dialect != Dialect::Postgresql) return false;  // an SQLite file does not go away
  auto* backend = static_cast<soci::postgresql_session_backend*>(s.get_backend());
  return backend == nullptr || PQstatus(backend->conn_) != CONNECTION_OK;
}

void Database::revive(soci::session& s) {
  statementCache(s).clear();  // its statements refer to the connection about to be replaced
  s.reconnect();
  configureSession(s, target_);
}

core::Result<void> Database::runWithSession(const std::function<void(soci::session&)>& work) {
  // the retry runs on the same session, revived: another one leased instead could be dead too
  auto session = acquire();
  if (!session) return std::unexpected(session.error());
  for (int attempt = 0;; ++attempt) {
    try {
      work(**session);
      return {};
    } catch (const soci::soci_error& e) {
      if (attempt == 0 && connectionLost(**session)) {
        core::log::warn("db.reconnect", {{"database", target_.displayName}});
        try {
          revive(**session);
          continue;
        } catch (const soci::soci_error&) {
          // fall through: report the original failure
        }
      }
      std::string message = e.get_error_message();
      if (auto nl = message.find('\n'); nl != std::string::npos) message.resize(nl);
      if (isConstraintViolation(e)) {
        return fail(ErrorCode::Conflict, "database error: " + message, core::Cause::ConstraintViolated);
      }
      return fail(ErrorCode::Unavailable, "database error: " + message);
    } catch (const std::exception& e) {
      return fail(ErrorCode::Internal, std::string("database error: ") + e.what());
    }
  }
}

void Database::executeScript(soci::session& s, const std::string& script) const {
  if (target_.dialect == Dialect::Sqlite) {
    auto* backend = static_cast<soci::sqlite3_session_backend*>(s.get_backend());
    char* error = nullptr;
    if (sqlite_api::sqlite3_exec(backend->conn_, script.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error ? error : "unknown SQLite error";
      sqlite_api::sqlite3_free(error);
      throw soci::soci_error(message);
    }
    return;
  }
  auto* backend = static_cast<soci::postgresql_session_backend*>(s.get_backend());
  PGresult* result = PQexec(backend->conn_, script.c_str());
  const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  std::string message = result ? PQresultErrorMessage(result) : PQerrorMessage(backend->conn_);
  if (result) PQclear(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
    while (!message.empty() && message.back() == '\n') message.pop_back();
    throw soci::soci_error(message.empty() ? "unknown PostgreSQL error" : message);
  }
}

core::Result<void> Database::ping() {
  return withSession([](soci::session& s) -> core::Result<void> {
    int one = 0;
    s << "SELECT 1", soci::into(one);
    return {};
  });
}

}  // namespace calgate::store
