#include "calgate/store/change_listener.hpp"

#include "calgate/store/statement_cache.hpp"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <libpq-fe.h>
#include <poll.h>

#include <cctype>
#include <cerrno>
#include <memory>
#include <thread>

namespace calgate::store {

using core::ErrorCode;
using core::fail;

namespace {

bool validChannel(const std::string& channel) {
  if (channel.empty() || channel.size() > 63) return false;
  for (char c : channel) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

class PostgresListener final : public ChangeListener {
 public:
  explicit PostgresListener(const DatabaseTarget& target, const std::string& channel) {
    session_.open(*soci::factory_postgresql(), target.connectString);
    session_ << "LISTEN " + channel;
    conn_ = static_cast<soci::postgresql_session_backend*>(session_.get_backend())->conn_;
  }

  core::Result<bool> wait(std::chrono::milliseconds timeout) override {
    if (drain()) return true;
    pollfd fd{PQsocket(conn_), POLLIN, 0};
    if (fd.fd < 0) return fail(ErrorCode::Unavailable, "the listening database connection is closed");
    const int ready = ::poll(&fd, 1, static_cast<int>(timeout.count()));
    if (ready < 0) return errno == EINTR ? core::Result<bool>(false) : fail(ErrorCode::Unavailable, "poll failed");
    if (ready == 0) return false;
    if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK) {
      return fail(ErrorCode::Unavailable, "the listening database connection broke");
    }
    return drain();
  }

 private:
  bool drain() {
    bool any = false;
    while (PGnotify* n = PQnotifies(conn_)) {
      PQfreemem(n);
      any = true;
    }
    return any;
  }
  soci::session session_;
  PGconn* conn_ = nullptr;
};

class SqliteListener final : public ChangeListener {
 public:
  explicit SqliteListener(const DatabaseTarget& target) {
    session_.open(*soci::factory_sqlite3(), target.connectString);
    session_ << "PRAGMA busy_timeout = 5000";
    query_ = std::make_unique<soci::statement>((session_.prepare << "PRAGMA data_version", soci::into(read_)));
    version_ = version();
  }

  core::Result<bool> wait(std::chrono::milliseconds timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    try {
      for (;;) {
        const long long now = version();
        if (now != version_) {
          version_ = now;
          return true;
        }
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(kSqlitePoll);
      }
    } catch (const std::exception& e) {
      return fail(ErrorCode::Unavailable, std::string("cannot read the database's version: ") + e.what());
    }
  }

 private:
  // Kept prepared (parsing it cost more than running it, ten times a second) and reset after every
  // run, also one that throws: left at its row it would hold its read transaction open between
  // polls, and the WAL could not be checkpointed.
  long long version() {
    struct Reset {
      soci::statement& statement;
      ~Reset() { detail::resetAfterUse(statement, Dialect::Sqlite); }
    } reset{*query_};
    query_->execute(true);
    return read_;
  }
  soci::session session_;
  long long read_ = 0;
  std::unique_ptr<soci::statement> query_;  // into read_; finalised before session_ closes
  long long version_ = 0;
};

}  // namespace

core::Result<std::unique_ptr<ChangeListener>> ChangeListener::open(const Database& db, const std::string& channel) {
  if (!validChannel(channel)) return fail(ErrorCode::Invalid, "a channel name is 1 to 63 letters, digits or '_'");
  const DatabaseTarget& target = db.target();
  if (target.dialect == Dialect::Sqlite && target.sqliteFile.empty()) {
    return fail(ErrorCode::Invalid, "an in-memory database has no other connections to listen to");
  }
  try {
    if (target.dialect == Dialect::Postgresql) return std::make_unique<PostgresListener>(target, channel);
    return std::make_unique<SqliteListener>(target);
  } catch (const std::exception& e) {
    return fail(ErrorCode::Unavailable, "cannot open a listening connection to " + target.displayName + ": " + e.what());
  }
}

void notify(soci::session& session, Dialect dialect, const std::string& channel) {
  if (dialect != Dialect::Postgresql) return;
  if (!validChannel(channel)) throw soci::soci_error("invalid notification channel");
  session << "NOTIFY " + channel;
}

}  // namespace calgate::store
