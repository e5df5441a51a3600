#include "calgate/portal/session_store.hpp"

#include "calgate/core/hash.hpp"
#include "calgate/core/ids.hpp"
#include "calgate/store/transaction.hpp"

#include <soci/soci.h>

namespace calgate::portal {
namespace {

using core::ErrorCode;
using core::fail;

constexpr std::string_view kSecretPrefix = "cgs";
constexpr long long kLastSeenResolutionSeconds = 60;

core::Error notSignedIn() { return {ErrorCode::Unauthorized, "not signed in, or the session ended", std::nullopt}; }

struct Row {
  Session s;
  soci::indicator revokedInd = soci::i_null, disabledInd = soci::i_null;
  long long revokedAt = 0, disabledAt = 0;
};

constexpr const char* kColumns = "s.id, s.user_id, s.via, s.client, s.created_at, s.last_seen_at, s.expires_at";

}  // namespace

std::string csrfToken(std::string_view secret) { return core::sha256Hex("calgate portal csrf\n" + std::string(secret)); }

std::string clientLabel(std::string_view ua) {
  const auto has = [&](std::string_view s) { return ua.find(s) != std::string_view::npos; };
  // order matters: Edge and Chrome say "Safari", Chrome on Android says "Linux"
  const std::string_view browser = has("Edg/")       ? "Edge"
                                   : has("Firefox/") ? "Firefox"
                                   : has("Chrome/") || has("Chromium/") ? "Chromium"
                                   : has("Safari/")  ? "Safari"
                                                     : "a browser";
  const std::string_view system = has("Android")                     ? "Android"
                                  : has("iPhone") || has("iPad")      ? "iOS"
                                  : has("Windows")                    ? "Windows"
                                  : has("Mac OS X") || has("Macintosh") ? "macOS"
                                  : has("Linux")                      ? "Linux"
                                                                      : "";
  return system.empty() ? std::string(browser) : std::string(browser) + " on " + std::string(system);
}

SessionStore::SessionStore(store::Database& db, const core::Clock& clock, std::chrono::seconds lifetime)
    : db_(db), clock_(clock), lifetime_(lifetime) {}

core::Result<OpenedSession> SessionStore::open(const std::string& userId, std::string_view via, std::string_view client) {
  OpenedSession out;
  out.secret = core::newSecret(kSecretPrefix);
  const long long now = clock_.nowUnixSeconds();
  out.session = Session{core::newId("ses"), userId, std::string(via), std::string(client.substr(0, 64)), now, now,
                        now + lifetime_.count()};
  const std::string hash = core::sha256Hex(out.secret);
  auto stored = db_.withSession([&](soci::session& sql) -> core::Result<void> {
    const Session& s = out.session;
    sql << "INSERT INTO portal_sessions (id, user_id, secret_hash, via, client, created_at, last_seen_at, expires_at) "
           "VALUES (:i, :u, :h, :v, :c, :a, :l, :e)",
        soci::use(s.id), soci::use(s.userId), soci::use(hash), soci::use(s.via), soci::use(s.client),
        soci::use(s.createdAt), soci::use(s.lastSeenAt), soci::use(s.expiresAt);
    return {};
  });
  if (!stored) return std::unexpected(stored.error());
  return out;
}

core::Result<Session> SessionStore::authenticate(std::string_view secret) {
  if (!secret.starts_with(std::string(kSecretPrefix) + "_") || secret.size() > 128) return std::unexpected(notSignedIn());
  const std::string hash = core::sha256Hex(secret);
  const long long now = clock_.nowUnixSeconds();
  return db_.withSession([&](soci::session& sql) -> core::Result<Session> {
    Row r;
    sql << "SELECT " << kColumns << ", s.revoked_at, u.disabled_at FROM portal_sessions s JOIN users u ON u.id = s.user_id "
                                    "WHERE s.secret_hash = :h",
        soci::use(hash), soci::into(r.s.id), soci::into(r.s.userId), soci::into(r.s.via), soci::into(r.s.client),
        soci::into(r.s.createdAt), soci::into(r.s.lastSeenAt), soci::into(r.s.expiresAt),
        soci::into(r.revokedAt, r.revokedInd), soci::into(r.disabledAt, r.disabledInd);
    if (!sql.got_data() || r.revokedInd == soci::i_ok || r.disabledInd == soci::i_ok || r.s.expiresAt <= now) {
      return std::unexpected(notSignedIn());
    }
    if (now - r.s.lastSeenAt >= kLastSeenResolutionSeconds) {
      sql << "UPDATE portal_sessions SET last_seen_at = :n WHERE id = :i", soci::use(now), soci::use(r.s.id);
      r.s.lastSeenAt = now;
    }
    return r.s;
  });
}

core::Result<std::vector<Session>> SessionStore::list(const std::string& userId) {
  const long long now = clock_.nowUnixSeconds();
  return db_.withSession([&](soci::session& sql) -> core::Result<std::vector<Session>> {
    std::vector<Session> out;
    Session s;
    soci::statement st = (sql.prepare << "SELECT " << kColumns << " FROM portal_sessions s WHERE s.user_id = :u AND "
                                         "s.revoked_at IS NULL AND s.expires_at > :n ORDER BY s.created_at DESC, s.id",
                          soci::use(userId), soci::use(now), soci::into(s.id), soci::into(s.userId), soci::into(s.via),
                          soci::into(s.client), soci::into(s.createdAt), soci::into(s.lastSeenAt),
                          soci::into(s.expiresAt));
    st.execute();
    while (st.fetch()) out.push_back(s);
    return out;
  });
}

core::Result<void> SessionStore::revoke(const std::string& userId, const std::string& sessionId) {
  const long long now = clock_.nowUnixSeconds();
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    soci::statement st = (sql.prepare << "UPDATE portal_sessions SET revoked_at = :n WHERE id = :i AND user_id = :u AND "
                                         "revoked_at IS NULL AND expires_at > :e",
                          soci::use(now), soci::use(sessionId), soci::use(userId), soci::use(now));
    st.execute(true);
    if (st.get_affected_rows() != 1) return fail(ErrorCode::NotFound, "no such session");
    return {};
  });
}

core::Result<std::size_t> SessionStore::purge(long long before) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::size_t> {
    soci::statement st = (sql.prepare << "DELETE FROM portal_sessions WHERE expires_at < :b OR revoked_at < :r",
                          soci::use(before), soci::use(before));
    st.execute(true);
    return static_cast<std::size_t>(st.get_affected_rows());
  });
}

}  // namespace calgate::portal
