#include "calgate/sync/skip_store.hpp"

#include "calgate/core/utf8.hpp"
#include "calgate/store/row_values.hpp"
#include "pair_rows.hpp"
#include "calgate/store/transaction.hpp"

#include <soci/soci.h>


namespace calgate::sync {

namespace {
constexpr std::size_t kMaxReason = 300;
}

core::Result<bool> SkipStore::record(const std::string& pairId, const std::string& calendarId,
                                     const providers::SkippedResource& resource, const audit::AuditEntry& entry) {
  return db_.withSession([&](soci::session& sql) -> core::Result<bool> {
    store::WriteTransaction tx(sql, db_.dialect());
    const long long now = clock_.nowUnixSeconds();
    const std::string reason = core::utf8Clean(resource.reason, kMaxReason);
    std::string etag, known;
    soci::indicator ind = soci::i_null;
    sql << "SELECT etag, reason FROM skipped_resources WHERE pair_id = :p AND source_calendar_id = :c AND "
           "source_event_id = :e",
        soci::into(etag), soci::into(known, ind), soci::use(pairId), soci::use(calendarId), soci::use(resource.id);
    const bool found = sql.got_data() && ind != soci::i_null;
    const bool changed = !found || etag != resource.etag || known != reason;
    if (!found) {
      sql << "INSERT INTO skipped_resources (pair_id, source_calendar_id, source_event_id, etag, reason, "
             "first_seen_at, seen_at) VALUES (:p, :c, :e, :t, :r, :f, :s)",
          soci::use(pairId), soci::use(calendarId), soci::use(resource.id), soci::use(resource.etag), soci::use(reason),
          soci::use(now), soci::use(now);
    } else {
      sql << "UPDATE skipped_resources SET etag = :t, reason = :r, seen_at = :s WHERE pair_id = :p AND "
             "source_calendar_id = :c AND source_event_id = :e",
          soci::use(resource.etag), soci::use(reason), soci::use(now), soci::use(pairId), soci::use(calendarId),
          soci::use(resource.id);
    }
    if (changed) audit::AuditLog::appendWithin(sql, db_.dialect(), entry, now);
    tx.commit();
    return changed;
  });
}

core::Result<void> SkipStore::forget(const std::string& pairId, const std::string& calendarId,
                                     const std::vector<std::string>& ids) {
  return detail::forgetRows(db_, "skipped_resources", pairId, calendarId, ids);
}

core::Result<std::vector<std::string>> SkipStore::ids(const std::string& pairId, const std::string& calendarId) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::vector<std::string>> {
    std::vector<std::string> out;
    soci::rowset<std::string> rows =
        (sql.prepare << "SELECT source_event_id FROM skipped_resources WHERE pair_id = :p AND source_calendar_id = :c",
         soci::use(pairId), soci::use(calendarId));
    for (const auto& id : rows) out.push_back(id);
    return out;
  });
}

core::Result<std::vector<SkippedEntry>> SkipStore::list(const std::string& pairId, std::size_t limit) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::vector<SkippedEntry>> {
    std::vector<SkippedEntry> out;
    soci::rowset<soci::row> rows =
        (sql.prepare << "SELECT source_calendar_id, source_event_id, reason, first_seen_at, seen_at FROM "
                        "skipped_resources WHERE pair_id = :p ORDER BY seen_at DESC, source_event_id",
         soci::use(pairId));
    for (const auto& r : rows) {
      if (limit && out.size() == limit) break;
      out.push_back({store::textAt(r, 0), store::textAt(r, 1), store::textAt(r, 2), store::integerAt(r, 3),
                     store::integerAt(r, 4)});
    }
    return out;
  });
}

core::Result<long long> SkipStore::count(const std::string& pairId) {
  return db_.withSession([&](soci::session& sql) -> core::Result<long long> {
    long long n = 0;
    sql << "SELECT COUNT(*) FROM skipped_resources WHERE pair_id = :p", soci::into(n), soci::use(pairId);
    return n;
  });
}

}  // namespace calgate::sync
