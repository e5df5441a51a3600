#include "calgate/sync/failure_store.hpp"

#include "calgate/core/utf8.hpp"
#include "calgate/store/row_values.hpp"
#include "pair_rows.hpp"
#include "calgate/store/transaction.hpp"

#include <soci/soci.h>

#include <algorithm>

namespace calgate::sync {

namespace {

constexpr std::size_t kMaxReason = 300;
constexpr const char* kColumns =
    "SELECT source_calendar_id, source_event_id, reason, attempts, first_failed_at, next_retry_at FROM failing_events ";

FailingEvent fromRow(const soci::row& r) {
  return {store::textAt(r, 0),    store::textAt(r, 1),    store::textAt(r, 2),
          store::integerAt(r, 3), store::integerAt(r, 4), store::integerAt(r, 5)};
}

}  // namespace

long long FailureStore::backoffSeconds(long long attempts) {
  const long long exponent = std::clamp<long long>(attempts - 1, 0, 20);
  return std::min<long long>(60LL << exponent, 6 * 3600);
}

core::Result<FailingEvent> FailureStore::record(const std::string& pairId, const std::string& calendarId,
                                                const std::string& eventId, const std::string& reason,
                                                const audit::AuditEntry& entry) {
  return db_.withSession([&](soci::session& sql) -> core::Result<FailingEvent> {
    store::WriteTransaction tx(sql, db_.dialect());
    const long long now = clock_.nowUnixSeconds();
    FailingEvent f{calendarId, eventId, core::utf8Clean(reason, kMaxReason), 1, now, 0};
    long long attempts = 0, first = 0;
    soci::indicator ind = soci::i_null;
    sql << "SELECT attempts, first_failed_at FROM failing_events WHERE pair_id = :p AND source_calendar_id = :c AND "
           "source_event_id = :e",
        soci::into(attempts, ind), soci::into(first), soci::use(pairId), soci::use(calendarId), soci::use(eventId);
    const bool found = sql.got_data() && ind != soci::i_null;
    if (found) f.attempts = attempts + 1, f.firstFailedAt = first;
    f.nextRetryAt = now + backoffSeconds(f.attempts);
    if (found) {
      sql << "UPDATE failing_events SET reason = :r, attempts = :a, next_retry_at = :n WHERE pair_id = :p AND "
             "source_calendar_id = :c AND source_event_id = :e",
          soci::use(f.reason), soci::use(f.attempts), soci::use(f.nextRetryAt), soci::use(pairId), soci::use(calendarId),
          soci::use(eventId);
    } else {
      sql << "INSERT INTO failing_events (pair_id, source_calendar_id, source_event_id, reason, attempts, "
             "first_failed_at, next_retry_at) VALUES (:p, :c, :e, :r, :a, :f, :n)",
          soci::use(pairId), soci::use(calendarId), soci::use(eventId), soci::use(f.reason), soci::use(f.attempts),
          soci::use(f.firstFailedAt), soci::use(f.nextRetryAt);
    }
    audit::AuditLog::appendWithin(sql, db_.dialect(), entry, now);
    tx.commit();
    return f;
  });
}

core::Result<void> FailureStore::forget(const std::string& pairId, const std::string& calendarId,
                                     const std::vector<std::string>& ids) {
  return detail::forgetRows(db_, "failing_events", pairId, calendarId, ids);
}

core::Result<std::vector<FailingEvent>> FailureStore::ofCalendar(const std::string& pairId, const std::string& calendarId) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::vector<FailingEvent>> {
    std::vector<FailingEvent> out;
    soci::rowset<soci::row> rows = (sql.prepare << std::string(kColumns) + "WHERE pair_id = :p AND source_calendar_id = :c",
                                    soci::use(pairId), soci::use(calendarId));
    for (const auto& r : rows) out.push_back(fromRow(r));
    return out;
  });
}

core::Result<std::vector<FailingEvent>> FailureStore::list(const std::string& pairId, std::size_t limit) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::vector<FailingEvent>> {
    std::vector<FailingEvent> out;
    soci::rowset<soci::row> rows =
        (sql.prepare << std::string(kColumns) + "WHERE pair_id = :p ORDER BY next_retry_at, source_event_id",
         soci::use(pairId));
    for (const auto& r : rows) {
      if (limit && out.size() == limit) break;
      out.push_back(fromRow(r));
    }
    return out;
  });
}

core::Result<long long> FailureStore::count(const std::string& pairId) {
  return db_.withSession([&](soci::session& sql) -> core::Result<long long> {
    long long n = 0;
    sql << "SELECT COUNT(*) FROM failing_events WHERE pair_id = :p", soci::into(n), soci::use(pairId);
    return n;
  });
}

}  // namespace calgate::sync
