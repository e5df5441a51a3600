#include "calgate/accounts/user_erasure.hpp"

#include "calgate/audit/audit_log.hpp"
#include "calgate/core/hash.hpp"
#include "calgate/store/transaction.hpp"

#include <nlohmann/json.hpp>
#include <soci/soci.h>

namespace calgate::accounts {

std::string emailHash(std::string_view hashKey, std::string_view email) {
  return hashKey.empty() ? core::sha256Hex(email) : core::keyedHash(hashKey, "email", email);
}

core::Result<std::vector<std::string>> erasedUserIds(store::Database& db, std::string_view hashKey, std::string_view email) {
  return db.withSession([&](soci::session& sql) -> core::Result<std::vector<std::string>> {
    std::vector<std::string> out;
    const std::string keyed = emailHash(hashKey, email), plain = core::sha256Hex(email);
    soci::rowset<soci::row> rows = (sql.prepare << "SELECT user_id FROM deletion_audit WHERE user_id IS NOT NULL AND "
                                                   "(email_sha256 = :k OR email_sha256 = :p) ORDER BY deleted_at",
                                    soci::use(keyed), soci::use(plain));
    for (const auto& r : rows) out.push_back(r.get<std::string>(0));
    return out;
  });
}

core::Result<ErasureCounts> eraseUser(store::Database& db, const core::Clock& clock, const std::string& userId,
                                      std::string_view requestedBy, std::string_view hashKey) {
  if (requestedBy != "user" && requestedBy != "admin" && requestedBy != "retention") {
    return core::fail(core::ErrorCode::Invalid, "requestedBy must be user, admin or retention");
  }
  const std::string by(requestedBy);
  return db.withSession([&](soci::session& sql) -> core::Result<ErasureCounts> {
    store::WriteTransaction tx(sql, db.dialect());
    std::string email;
    soci::indicator ind = soci::i_null;
    sql << "SELECT email FROM users WHERE id = :u", soci::into(email, ind), soci::use(userId);
    if (!sql.got_data() || ind == soci::i_null) return core::fail(core::ErrorCode::NotFound, "no such user");

    ErasureCounts n;
    constexpr const char* kPairs = "(SELECT id FROM pairs WHERE user_id = :u)";
    constexpr const char* kAccounts = "(SELECT id FROM accounts WHERE user_id = :u)";
    sql << "SELECT COUNT(*) FROM api_tokens WHERE user_id = :u", soci::into(n.tokens), soci::use(userId);
    sql << "SELECT COUNT(*) FROM accounts WHERE user_id = :u", soci::into(n.accounts), soci::use(userId);
    sql << std::string("SELECT COUNT(*) FROM calendars WHERE account_id IN ") + kAccounts, soci::into(n.calendars),
        soci::use(userId);
    sql << "SELECT COUNT(*) FROM pairs WHERE user_id = :u", soci::into(n.pairs), soci::use(userId);
    sql << std::string("SELECT COUNT(*) FROM mappings WHERE pair_id IN ") + kPairs, soci::into(n.mappings),
        soci::use(userId);
    sql << "SELECT COUNT(*) FROM feeds WHERE user_id = :u", soci::into(n.feeds), soci::use(userId);

    // Explicit deletes in dependency order rather than relying on ON DELETE CASCADE alone: the
    // jobs go first so no worker picks up a pair that is being erased.
    sql << std::string("DELETE FROM jobs WHERE pair_id IN ") + kPairs, soci::use(userId);
    sql << std::string("DELETE FROM mappings WHERE pair_id IN ") + kPairs, soci::use(userId);
    sql << std::string("DELETE FROM skipped_resources WHERE pair_id IN ") + kPairs, soci::use(userId);
    sql << std::string("DELETE FROM failing_events WHERE pair_id IN ") + kPairs, soci::use(userId);
    sql << std::string("DELETE FROM cursors WHERE pair_id IN ") + kPairs, soci::use(userId);
    sql << "DELETE FROM pairs WHERE user_id = :u", soci::use(userId);
    sql << "DELETE FROM feeds WHERE user_id = :u", soci::use(userId);
    sql << std::string("DELETE FROM subscriptions WHERE calendar_id IN (SELECT id FROM calendars WHERE account_id IN ") +
               kAccounts + ")",
        soci::use(userId);
    sql << std::string("DELETE FROM calendars WHERE account_id IN ") + kAccounts, soci::use(userId);
    sql << "DELETE FROM accounts WHERE user_id = :u", soci::use(userId);  // the vault ciphertexts
    sql << "DELETE FROM api_tokens WHERE user_id = :u", soci::use(userId);
    sql << "DELETE FROM portal_sessions WHERE user_id = :u", soci::use(userId);  // signed out everywhere
    sql << "DELETE FROM login_links WHERE user_id = :u", soci::use(userId);
    sql << "DELETE FROM users WHERE id = :u", soci::use(userId);

    const std::string hash = emailHash(hashKey, email);
    const long long now = clock.nowUnixSeconds();
    const std::string counts = nlohmann::json{{"tokens", n.tokens},     {"accounts", n.accounts},
                                              {"calendars", n.calendars}, {"pairs", n.pairs},
                                              {"mappings", n.mappings}, {"feeds", n.feeds}}
                                   .dump();
    sql << "INSERT INTO deletion_audit (email_sha256, deleted_at, requested_by, counts_json, user_id) "
           "VALUES (:h, :t, :r, :c, :u)",
        soci::use(hash), soci::use(now), soci::use(by), soci::use(counts), soci::use(userId);
    audit::AuditEntry e;
    e.actor = by == "user" ? "user" : by;
    e.userId = userId;  // the erased user's own export (found by the keyed address hash) shows it
    e.action = "user.erase";
    e.objectRef = "user";
    e.decision = "erased";
    e.facts = {{"email_sha256", hash}, {"counts", counts}};
    audit::AuditLog::appendWithin(sql, db.dialect(), e, now);
    tx.commit();
    return n;
  });
}

core::Result<std::size_t> purgeDeletionRecords(store::Database& db, long long cutoff) {
  return db.withSession([&](soci::session& sql) -> core::Result<std::size_t> {
    soci::statement st = (sql.prepare << "DELETE FROM deletion_audit WHERE deleted_at < :c", soci::use(cutoff));
    st.execute(true);
    return static_cast<std::size_t>(st.get_affected_rows());
  });
}

}  // namespace calgate::accounts
