#include "calgate/sync/calendar_store.hpp"

#include "calgate/accounts/identities.hpp"
#include "calgate/core/ids.hpp"
#include "calgate/model/event.hpp"
#include "calgate/store/row_values.hpp"
#include "calgate/store/transaction.hpp"

#include <soci/soci.h>

namespace calgate::sync {

namespace {

constexpr const char* kSelect =
    "SELECT c.id, c.account_id, a.provider, a.email, c.provider_calendar_id, c.display_name, "
    "COALESCE(c.time_zone, 'UTC'), c.writable, a.server_url, a.identities "
    "FROM calendars c JOIN accounts a ON a.id = c.account_id ";

// One row of kSelect. The stored provider name is parsed: an unknown one is an error, never a
// default.
core::Result<CalendarRef> fromRow(const soci::row& r) {
  CalendarRef c;
  c.id = store::textAt(r, 0);
  c.accountId = store::textAt(r, 1);
  auto kind = model::parseProviderKind(store::textAt(r, 2));
  if (!kind) return core::fail(core::ErrorCode::Internal, "calendar " + c.id + ": " + kind.error().message);
  c.provider = *kind;
  const std::string email = store::textAt(r, 3);
  c.providerCalendarId = store::textAt(r, 4);
  c.displayName = store::textAt(r, 5);
  c.timeZone = store::textAt(r, 6);
  c.writable = store::integerAt(r, 7) != 0;
  const auto server = r.get_indicator(8) == soci::i_ok ? std::optional<std::string>(store::textAt(r, 8)) : std::nullopt;
  const auto proven = r.get_indicator(9) == soci::i_ok ? std::optional<std::string>(store::textAt(r, 9)) : std::nullopt;
  c.identities = accounts::identitiesFromColumn(proven, email, server);
  return c;
}

core::Result<CalendarRef> readOne(soci::session& sql, const std::string& where, const std::string& a,
                                  const std::string& b) {
  std::optional<soci::rowset<soci::row>> rows;
  if (b.empty()) rows.emplace((sql.prepare << kSelect + where, soci::use(a)));
  else rows.emplace((sql.prepare << kSelect + where, soci::use(a), soci::use(b)));
  for (const auto& r : *rows) return fromRow(r);
  return core::fail(core::ErrorCode::NotFound, "no such calendar");
}

}  // namespace

core::Result<CalendarRef> CalendarStore::upsert(const std::string& accountId, const std::string& providerCalendarId,
                                                const std::string& displayName, const std::string& timeZone,
                                                bool writable) {
  if (providerCalendarId.empty() || providerCalendarId.size() > 2048) {
    return core::fail(core::ErrorCode::Invalid, "calendar id must be 1 to 2048 bytes");
  }
  // Name and zone come from the provider: printable text of at most 200 bytes (cut on a UTF-8
  // boundary), and a zone this system knows (it anchors floating times of copies) or UTC.
  std::string name;
  for (unsigned char c : displayName) {
    if (c >= 0x20 && c != 0x7F) name += static_cast<char>(c);
  }
  if (name.size() > 200) {
    std::size_t cut = 200;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
    name.resize(cut);
  }
  const std::string zone = model::isKnownZone(timeZone) ? timeZone : "UTC";
  return db_.withSession([&](soci::session& sql) -> core::Result<CalendarRef> {
    store::WriteTransaction tx(sql, db_.dialect());
    const long long now = clock_.nowUnixSeconds();
    const int w = writable ? 1 : 0;
    auto existing = readOne(sql, "WHERE c.account_id = :a AND c.provider_calendar_id = :p", accountId,
                            providerCalendarId);
    if (existing) {
      sql << "UPDATE calendars SET display_name = :n, time_zone = :z, writable = :w, updated_at = :t WHERE id = :i",
          soci::use(name), soci::use(zone), soci::use(w), soci::use(now), soci::use(existing->id);
    } else {
      const std::string id = core::newId("cal");
      sql << "INSERT INTO calendars (id, account_id, provider_calendar_id, display_name, time_zone, writable, "
             "created_at, updated_at) VALUES (:i, :a, :p, :n, :z, :w, :c, :u)",
          soci::use(id), soci::use(accountId), soci::use(providerCalendarId), soci::use(name), soci::use(zone),
          soci::use(w), soci::use(now), soci::use(now);
    }
    auto out = readOne(sql, "WHERE c.account_id = :a AND c.provider_calendar_id = :p", accountId, providerCalendarId);
    if (!out) return core::fail(core::ErrorCode::NotFound, "the account does not exist");
    tx.commit();
    return out;
  });
}

core::Result<CalendarRef> CalendarStore::get(const std::string& id) {
  return db_.withSession([&](soci::session& sql) { return readOne(sql, "WHERE c.id = :i", id, ""); });
}

core::Result<std::vector<CalendarRef>> CalendarStore::listForAccount(const std::string& accountId) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::vector<CalendarRef>> {
    std::vector<CalendarRef> out;
    soci::rowset<soci::row> rows =
        (sql.prepare << std::string(kSelect) + "WHERE c.account_id = :a ORDER BY c.display_name, c.id",
         soci::use(accountId));
    for (const auto& r : rows) {
      auto c = fromRow(r);
      if (!c) return std::unexpected(c.error());
      out.push_back(std::move(*c));
    }
    return out;
  });
}

}  // namespace calgate::sync
