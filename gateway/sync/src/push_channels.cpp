#include "calgate/sync/push_channels.hpp"

#include "calgate/store/row_values.hpp"
#include "calgate/store/transaction.hpp"

#include <algorithm>

#include <soci/soci.h>

namespace calgate::sync {

namespace {

constexpr const char* kColumns =
    "id, provider, calendar_id, COALESCE(resource_id, ''), token_sha256, state, expires_at, created_at, reauthorize";

PushChannel channelOf(const soci::row& r) {
  PushChannel c;
  c.id = store::textAt(r, 0);
  c.provider = store::textAt(r, 1);
  c.calendarId = store::textAt(r, 2);
  c.resourceId = store::textAt(r, 3);
  c.tokenSha256 = store::textAt(r, 4);
  c.active = store::textAt(r, 5) == "active";
  c.expiresAt = store::integerAt(r, 6);
  c.createdAt = store::integerAt(r, 7);
  c.reauthorize = store::integerAt(r, 8) != 0;
  return c;
}

}  // namespace

core::Result<void> PushChannelStore::opening(const std::string& id, const std::string& provider, const std::string& calendarId,
                                             const std::string& tokenSha256, long long expiresAt) {
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    const long long now = clock_.nowUnixSeconds();
    sql << "INSERT INTO push_channels (id, provider, calendar_id, token_sha256, state, expires_at, created_at) "
           "VALUES (:i, :p, :c, :t, 'opening', :e, :n)",
        soci::use(id), soci::use(provider), soci::use(calendarId), soci::use(tokenSha256), soci::use(expiresAt),
        soci::use(now);
    return {};
  });
}

core::Result<void> PushChannelStore::activate(const std::string& id, const std::string& resourceId, long long expiresAt) {
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    soci::statement st = (sql.prepare << "UPDATE push_channels SET resource_id = :r, expires_at = :e, state = 'active' "
                                         "WHERE id = :i",
                          soci::use(resourceId), soci::use(expiresAt), soci::use(id));
    st.execute(true);
    if (st.get_affected_rows() == 0) return core::fail(core::ErrorCode::NotFound, "the push channel is no longer recorded");
    return {};
  });
}

core::Result<std::optional<PushChannel>> PushChannelStore::find(const std::string& id) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::optional<PushChannel>> {
    soci::rowset<soci::row> rows = (sql.prepare << "SELECT " << kColumns << " FROM push_channels WHERE id = :i", soci::use(id));
    for (const auto& r : rows) return std::optional<PushChannel>(channelOf(r));
    return std::optional<PushChannel>();
  });
}

core::Result<std::optional<PushChannel>> PushChannelStore::findByTokenHash(const std::string& tokenSha256) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::optional<PushChannel>> {
    soci::rowset<soci::row> rows =
        (sql.prepare << "SELECT " << kColumns << " FROM push_channels WHERE token_sha256 = :t", soci::use(tokenSha256));
    for (const auto& r : rows) return std::optional<PushChannel>(channelOf(r));
    return std::optional<PushChannel>();
  });
}

core::Result<void> PushChannelStore::renewed(const std::string& id, long long expiresAt) {
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    sql << "UPDATE push_channels SET expires_at = :e WHERE id = :i", soci::use(expiresAt), soci::use(id);
    return {};
  });
}

core::Result<void> PushChannelStore::setReauthorize(const std::string& id, bool needed) {
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    const int flag = needed ? 1 : 0;
    sql << "UPDATE push_channels SET reauthorize = :r WHERE id = :i", soci::use(flag), soci::use(id);
    return {};
  });
}

core::Result<std::vector<PushChannel>> PushChannelStore::all() {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::vector<PushChannel>> {
    std::vector<PushChannel> out;
    soci::rowset<soci::row> rows = (sql.prepare << "SELECT " << kColumns << " FROM push_channels ORDER BY created_at, id");
    for (const auto& r : rows) out.push_back(channelOf(r));
    return out;
  });
}

core::Result<std::vector<PushChannel>> PushChannelStore::onCalendar(const std::string& calendarId) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::vector<PushChannel>> {
    std::vector<PushChannel> out;
    soci::rowset<soci::row> rows = (sql.prepare << "SELECT " << kColumns << " FROM push_channels WHERE calendar_id = :c "
                                                   "ORDER BY created_at, id",
                                    soci::use(calendarId));
    for (const auto& r : rows) out.push_back(channelOf(r));
    return out;
  });
}

core::Result<void> PushChannelStore::remove(const std::string& id) {
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    sql << "DELETE FROM push_channels WHERE id = :i", soci::use(id);
    return {};
  });
}


core::Result<PushRefusal> PushChannelStore::refused(const std::string& calendarId, const std::string& reason) {
  return db_.withSession([&](soci::session& sql) -> core::Result<PushRefusal> {
    store::WriteTransaction tx(sql, db_.dialect());
    int attempts = 0;
    soci::indicator ind = soci::i_null;
    sql << "SELECT attempts FROM push_refusals WHERE calendar_id = :c", soci::into(attempts, ind), soci::use(calendarId);
    const bool known = sql.got_data() && ind != soci::i_null;
    PushRefusal r{calendarId, reason.substr(0, 300), known ? attempts + 1 : 1, 0};
    const long long wait = std::min<long long>(600LL << std::min(r.attempts - 1, 20), 86400);
    r.retryAt = clock_.nowUnixSeconds() + wait;
    if (known) {
      sql << "UPDATE push_refusals SET reason = :r, attempts = :a, retry_at = :t WHERE calendar_id = :c", soci::use(r.reason),
          soci::use(r.attempts), soci::use(r.retryAt), soci::use(calendarId);
    } else {
      sql << "INSERT INTO push_refusals (calendar_id, reason, attempts, retry_at) VALUES (:c, :r, :a, :t)", soci::use(calendarId),
          soci::use(r.reason), soci::use(r.attempts), soci::use(r.retryAt);
    }
    tx.commit();
    return r;
  });
}

core::Result<std::vector<PushRefusal>> PushChannelStore::refusals() {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::vector<PushRefusal>> {
    std::vector<PushRefusal> out;
    soci::rowset<soci::row> rows = (sql.prepare << "SELECT calendar_id, reason, attempts, retry_at FROM push_refusals");
    for (const auto& r : rows) {
      out.push_back({store::textAt(r, 0), store::textAt(r, 1), static_cast<int>(store::integerAt(r, 2)), store::integerAt(r, 3)});
    }
    return out;
  });
}

core::Result<PushChannelStore::CalendarPush> PushChannelStore::ofCalendar(const std::string& calendarId) {
  return db_.withSession([&](soci::session& sql) -> core::Result<CalendarPush> {
    CalendarPush out;
    const long long now = clock_.nowUnixSeconds();
    soci::rowset<soci::row> live =
        (sql.prepare << "SELECT MAX(expires_at) FROM push_channels WHERE calendar_id = :c AND state = 'active' AND expires_at > :n",
         soci::use(calendarId), soci::use(now));
    for (const auto& r : live) {
      if (r.get_indicator(0) != soci::i_null) out.notifiedUntil = store::integerAt(r, 0);
    }
    soci::rowset<soci::row> refused =
        (sql.prepare << "SELECT calendar_id, reason, attempts, retry_at FROM push_refusals WHERE calendar_id = :c", soci::use(calendarId));
    for (const auto& r : refused) {
      out.refusal = PushRefusal{store::textAt(r, 0), store::textAt(r, 1), static_cast<int>(store::integerAt(r, 2)), store::integerAt(r, 3)};
    }
    return out;
  });
}

core::Result<void> PushChannelStore::clearRefusal(const std::string& calendarId) {
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    sql << "DELETE FROM push_refusals WHERE calendar_id = :c", soci::use(calendarId);
    return {};
  });
}

core::Result<std::size_t> PushChannelStore::clearRefusals() {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::size_t> {
    soci::statement st = (sql.prepare << "DELETE FROM push_refusals");
    st.execute(true);
    return static_cast<std::size_t>(st.get_affected_rows());
  });
}

core::Result<std::map<std::string, long long>> PushChannelStore::liveByProvider() {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::map<std::string, long long>> {
    std::map<std::string, long long> out;
    const long long now = clock_.nowUnixSeconds();
    soci::rowset<soci::row> rows = (sql.prepare << "SELECT provider, COUNT(*) FROM push_channels WHERE state = 'active' "
                                                   "AND expires_at > :n GROUP BY provider",
                                    soci::use(now));
    for (const auto& r : rows) out[store::textAt(r, 0)] = store::integerAt(r, 1);
    return out;
  });
}

core::Result<bool> PushChannelStore::takeUpkeep(const std::string& holder, long long expiresAt) {
  return db_.withSession([&](soci::session& sql) -> core::Result<bool> {
    const long long now = clock_.nowUnixSeconds();
    soci::statement st = (sql.prepare << "UPDATE push_upkeep SET holder = :h, expires_at = :e "
                                         "WHERE id = 1 AND (holder IS NULL OR expires_at <= :n)",
                          soci::use(holder), soci::use(expiresAt), soci::use(now));
    st.execute(true);
    return st.get_affected_rows() == 1;
  });
}

core::Result<void> PushChannelStore::releaseUpkeep(const std::string& holder) {
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    sql << "UPDATE push_upkeep SET holder = NULL, expires_at = 0 WHERE id = 1 AND holder = :h", soci::use(holder);
    return {};
  });
}

}  // namespace calgate::sync
