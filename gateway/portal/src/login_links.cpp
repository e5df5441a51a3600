#include "calgate/portal/login_links.hpp"

#include "calgate/core/hash.hpp"
#include "calgate/core/ids.hpp"
#include "calgate/store/transaction.hpp"

#include <soci/soci.h>

namespace calgate::portal {
namespace {

using core::ErrorCode;
using core::fail;

constexpr std::string_view kPrefix = "cgl";

core::Error unusable() {
  return {ErrorCode::Invalid, "this sign-in link is unknown, was already used or expired; ask for a new one", std::nullopt};
}

}  // namespace

LoginLinks::LoginLinks(store::Database& db, const core::Clock& clock) : db_(db), clock_(clock) {}

core::Result<IssuedLink> LoginLinks::issue(const std::string& userId, std::chrono::seconds ttl) {
  IssuedLink out{core::newSecret(kPrefix), clock_.nowUnixSeconds() + ttl.count()};
  const std::string hash = core::sha256Hex(out.secret);
  const long long now = clock_.nowUnixSeconds();
  auto stored = db_.withSession([&](soci::session& sql) -> core::Result<void> {
    store::WriteTransaction tx(sql, db_.dialect());
    sql << "DELETE FROM login_links WHERE expires_at <= :n", soci::use(now);
    sql << "INSERT INTO login_links (secret_hash, user_id, created_at, expires_at) VALUES (:h, :u, :c, :e)",
        soci::use(hash), soci::use(userId), soci::use(now), soci::use(out.expiresAt);
    tx.commit();
    return {};
  });
  if (!stored) return std::unexpected(stored.error());
  return out;
}

core::Result<std::string> LoginLinks::describe(const std::string& secret) {
  if (!secret.starts_with(std::string(kPrefix) + "_") || secret.size() > 128) return std::unexpected(unusable());
  const std::string hash = core::sha256Hex(secret);
  const long long now = clock_.nowUnixSeconds();
  return db_.withSession([&](soci::session& sql) -> core::Result<std::string> {
    std::string userId;
    long long expiresAt = 0, disabledAt = 0;
    soci::indicator disabledInd = soci::i_null;
    sql << "SELECT l.user_id, l.expires_at, u.disabled_at FROM login_links l JOIN users u ON u.id = l.user_id "
           "WHERE l.secret_hash = :h",
        soci::use(hash), soci::into(userId), soci::into(expiresAt), soci::into(disabledAt, disabledInd);
    if (!sql.got_data() || expiresAt <= now || disabledInd == soci::i_ok) return std::unexpected(unusable());
    return userId;
  });
}

core::Result<std::string> LoginLinks::consume(const std::string& secret) {
  auto userId = describe(secret);
  if (!userId) return userId;
  const std::string hash = core::sha256Hex(secret);
  return db_.withSession([&](soci::session& sql) -> core::Result<std::string> {
    soci::statement del = (sql.prepare << "DELETE FROM login_links WHERE secret_hash = :h", soci::use(hash));
    del.execute(true);
    if (del.get_affected_rows() != 1) return std::unexpected(unusable());  // a concurrent use won
    return *userId;
  });
}

}  // namespace calgate::portal
