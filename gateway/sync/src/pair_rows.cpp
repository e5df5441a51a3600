#include "pair_rows.hpp"

#include "calgate/store/transaction.hpp"

#include <soci/soci.h>

namespace calgate::sync::detail {

core::Result<void> forgetRows(store::Database& db, const char* table, const std::string& pairId,
                              const std::string& calendarId, const std::vector<std::string>& ids) {
  if (ids.empty()) return {};
  const std::string statement = std::string("DELETE FROM ") + table +
                                " WHERE pair_id = :p AND source_calendar_id = :c AND source_event_id = :e";
  return db.withSession([&](soci::session& sql) -> core::Result<void> {
    store::WriteTransaction tx(sql, db.dialect());
    for (const auto& id : ids) sql << statement, soci::use(pairId), soci::use(calendarId), soci::use(id);
    tx.commit();
    return {};
  });
}

}  // namespace calgate::sync::detail
