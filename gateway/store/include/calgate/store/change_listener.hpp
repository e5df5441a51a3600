#pragma once
/// Wake-ups across processes sharing one database, on a connection of its own (not the pool's):
/// on PostgreSQL, LISTEN on a channel that writers NOTIFY (`notify`); on SQLite, which has no
/// notifications, PRAGMA data_version, which moves whenever another connection commits - polled
/// every `kSqlitePoll`, so a waiter learns of any commit, not only of the channel's.
/// One thread uses a listener at a time; listeners of one database are independent.

#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace calgate::store {

class ChangeListener {
 public:
  /// On SQLite only another process's jobs need it (a process wakes its own workers directly), so
  /// a tenth of a second is soon enough; at 10 ms the poll took a third of a serving process's CPU
  /// during a sync.
  static constexpr std::chrono::milliseconds kSqlitePoll{100};

  /// Opens the connection and starts listening. `channel`: letters, digits and '_' only
  /// (Invalid otherwise). Unavailable when the database cannot be reached.
  static core::Result<std::unique_ptr<ChangeListener>> open(const Database& db, const std::string& channel);
  virtual ~ChangeListener() = default;
  /// Waits up to `timeout`. True when something was announced (PostgreSQL: a NOTIFY on the
  /// channel; SQLite: a commit by another connection); false on timeout. Unavailable when the
  /// connection broke: open a new listener (notifications sent meanwhile are lost).
  virtual core::Result<bool> wait(std::chrono::milliseconds timeout) = 0;
};

/// Announces on `channel` to every listener of the database (PostgreSQL: NOTIFY, delivered when
/// the session's transaction commits; SQLite: nothing to do, a commit announces itself). Throws
/// like any statement: use inside Database::withSession.
void notify(soci::session& session, Dialect dialect, const std::string& channel);

}  // namespace calgate::store
