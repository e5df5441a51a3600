#pragma once
/// Statements kept prepared on a pooled session, for the statements of the hot paths (the fence
/// before every write, the queries of every poll): parsed once per connection instead of at every
/// call. On SQLite, parsing a short SELECT cost more than running it (perf: the fence check's
/// prepare was 11 % of a CalDAV copy's CPU); on PostgreSQL a cached statement is a named
/// server-side one, executed without being parsed again.
///
/// Contract:
///  - `cachedStatement<Row>(db, session, query, bind)` returns the session's statement for `query`,
///    preparing it on first use. `bind(statement, row)` hands SOCI the into/use elements, bound by
///    reference to the members of the entry's `row` (an entry never moves, so they stay valid).
///  - `fetchOne()` runs it with the inputs currently in `row`, reads at most one row into `row`'s
///    outputs and says whether a row came; `execute()` runs a statement that returns no rows and
///    gives the rows it affected. Afterwards an SQLite statement is reset: a cached statement
///    holds no read snapshot between calls (it would hide other connections' commits). A run
///    that throws marks its statement broken: the next lookup prepares it afresh.
///  - Queries must be constant texts (they are the cache's keys): never built from values.
///  - Entries belong to their session: use them only inside Database::withSession, on the session
///    it gives. They are dropped before the session reconnects (a PostgreSQL statement refers to
///    its connection) and before the pool closes.
/// Thread-safety: a session's cache is touched only by the thread that has leased the session;
/// there is no lock. Errors: soci::soci_error like any statement (withSession turns it into an
/// error value); a statement that fails to prepare is not cached.

#include "calgate/store/database.hpp"

#include <soci/soci.h>

#include <exception>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace calgate::store {

/// The prepared statements of one pooled session, by query text.
class StatementCache {
 public:
  struct Entry {
    virtual ~Entry() = default;
    /// Its last run threw: dropped and prepared again at the next lookup (a failed run can leave
    /// the statement's state behind, and an error of the statement's own, such as PostgreSQL's
    /// "cached plan must not change result type", would repeat on every run).
    virtual bool broken() const = 0;
  };
  explicit StatementCache(Dialect dialect) : dialect_(dialect) {}
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  Dialect dialect() const { return dialect_; }
  /// The entry for `query`, or null.
  Entry* find(std::string_view query) const;
  /// Keeps `entry` for `query` (in place of a broken one) and returns it.
  Entry& keep(std::string_view query, std::unique_ptr<Entry> entry);
  /// Drops every statement (before a reconnect, and when the pool closes).
  void clear() { entries_.clear(); }
  std::size_t size() const { return entries_.size(); }

 private:
  Dialect dialect_;
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> entries_;
};

namespace detail {
/// Resets an SQLite statement (releasing its read snapshot); nothing on PostgreSQL.
void resetAfterUse(soci::statement& statement, Dialect dialect);
}  // namespace detail

/// One cached statement and the row its elements are bound to.
template <class Row>
class CachedStatement final : public StatementCache::Entry {
 public:
  template <class Bind>
  CachedStatement(soci::session& session, Dialect dialect, const std::string& query, Bind&& bind)
      : statement_(session), dialect_(dialect) {
    bind(statement_, row);
    statement_.alloc();
    statement_.prepare(query, soci::details::st_repeatable_query);
    statement_.define_and_bind();
  }
  CachedStatement(const CachedStatement&) = delete;
  CachedStatement& operator=(const CachedStatement&) = delete;

  /// Runs it; true when a row came (and is now in `row`).
  bool fetchOne() {
    Reset reset{*this};
    statement_.execute(true);
    return statement_.got_data();
  }
  /// Runs a statement without a result; the rows it affected.
  long long execute() {
    Reset reset{*this};
    statement_.execute(true);
    return statement_.get_affected_rows();
  }
  bool broken() const override { return broken_; }

  Row row{};

 private:
  struct Reset {  // also when the statement throws: the snapshot must not outlive the call
    CachedStatement& owner;
    int exceptions = std::uncaught_exceptions();
    ~Reset() {
      if (std::uncaught_exceptions() > exceptions) owner.broken_ = true;
      detail::resetAfterUse(owner.statement_, owner.dialect_);
    }
  };
  soci::statement statement_;
  Dialect dialect_;
  bool broken_ = false;
};

/// The session's statement for `query` (see the contract above). `session` must be the one
/// withSession handed to the caller.
template <class Row, class Bind>
CachedStatement<Row>& cachedStatement(Database& db, soci::session& session, const std::string& query, Bind&& bind) {
  StatementCache& cache = db.statementCache(session);
  auto* found = cache.find(query);
  if (found && !found->broken()) {
    if (auto* same = dynamic_cast<CachedStatement<Row>*>(found)) return *same;
    throw soci::soci_error("a cached statement is used with two different row types");
  }
  auto made = std::make_unique<CachedStatement<Row>>(session, cache.dialect(), query, std::forward<Bind>(bind));
  return static_cast<CachedStatement<Row>&>(cache.keep(query, std::move(made)));
}

}  // namespace calgate::store
