#include "calgate/sync/push_channels.hpp"

#include "calgate/store/row_values.hpp"

#include <soci/soci.h>

namespace calgate::sync {

namespace {

constexpr const char* kColumns = "id, provider, calendar_id, COALESCE(resource_id, ''), token_sha256, state, expires_at, created_at";

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

core::Result<std::vector<PushChannel>> PushChannelStore::all() {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::vector<PushChannel>> {
    std::vector<PushChannel> out;
    soci::rowset<soci::row> rows = (sql.prepare << "SELECT " << kColumns << " FROM push_channels ORDER BY created_at, id");
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

}  // namespace calgate::sync
