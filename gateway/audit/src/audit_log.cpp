#include "calgate/audit/audit_log.hpp"

#include "calgate/core/hash.hpp"
#include "calgate/store/transaction.hpp"

#include <nlohmann/json.hpp>
#include "calgate/store/row_values.hpp"

#include <soci/soci.h>

namespace calgate::audit {

namespace {

using store::integerAt;
using store::textAt;

const std::string kGenesis(64, '0');

std::string detailsJson(const AuditEntry& e) {
  nlohmann::json j = nlohmann::json::object();
  if (!e.reasons.empty()) j["reasons"] = e.reasons;
  for (const auto& [k, v] : e.facts) j[k] = v;
  // std::map and arrays: a deterministic serialisation. Reasons may quote what a server or a file
  // said: invalid UTF-8 becomes U+FFFD instead of failing the write it records.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string field(std::string_view s) { return std::to_string(s.size()) + ":" + std::string(s) + "\n"; }

std::string entryHash(const std::string& prev, long long at, const std::string& actor, const std::string& userId,
                      const std::string& action, const std::string& objectRef, const std::string& decision,
                      const std::string& details) {
  return core::sha256Hex("calgate-audit-v1\n" + field(prev) + field(std::to_string(at)) + field(actor) +
                         field(userId) + field(action) + field(objectRef) + field(decision) + field(details));
}

}  // namespace

void AuditLog::appendWithin(soci::session& sql, store::Dialect dialect, const AuditEntry& e, long long at) {
  std::string details = detailsJson(e);
  if (details.size() > 16384) details = R"({"truncated":"details over 16 KiB"})";
  // appends from several processes must see each other's last hash: serialise them
  if (dialect == store::Dialect::Postgresql) sql << "LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE";
  std::string prev;
  soci::indicator ind = soci::i_null;
  sql << "SELECT entry_sha256 FROM audit_log ORDER BY seq DESC LIMIT 1", soci::into(prev, ind);
  if (!sql.got_data() || ind == soci::i_null) prev = kGenesis;
  const std::string hash = entryHash(prev, at, e.actor, e.userId, e.action, e.objectRef, e.decision, details);
  soci::indicator userInd = e.userId.empty() ? soci::i_null : soci::i_ok;
  sql << "INSERT INTO audit_log (at, actor, user_id, action, object_ref, decision, details_json, prev_sha256, "
         "entry_sha256) VALUES (:a, :ac, :u, :act, :o, :d, :j, :p, :h)",
      soci::use(at), soci::use(e.actor), soci::use(e.userId, userInd), soci::use(e.action), soci::use(e.objectRef),
      soci::use(e.decision), soci::use(details), soci::use(prev), soci::use(hash);
}

core::Result<void> AuditLog::append(const AuditEntry& e) {
  if (detailsJson(e).size() > 16384) return core::fail(core::ErrorCode::Invalid, "audit details are larger than 16 KiB");
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    store::WriteTransaction tx(sql, db_.dialect());
    appendWithin(sql, db_.dialect(), e, clock_.nowUnixSeconds());
    tx.commit();
    return {};
  });
}

core::Result<std::vector<StoredEntry>> AuditLog::read(long long afterSeq, std::size_t limit) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::vector<StoredEntry>> {
    std::vector<StoredEntry> out;
    const long long lim = static_cast<long long>(std::min<std::size_t>(limit, 100000));
    soci::rowset<soci::row> rows =
        (sql.prepare << "SELECT seq, at, actor, COALESCE(user_id, ''), action, object_ref, COALESCE(decision, ''), "
                        "details_json FROM audit_log WHERE seq > :s ORDER BY seq LIMIT :l",
         soci::use(afterSeq), soci::use(lim));
    for (const auto& r : rows) {
      StoredEntry s;
      s.seq = integerAt(r, 0);
      s.at = integerAt(r, 1);
      s.entry.actor = textAt(r, 2);
      s.entry.userId = textAt(r, 3);
      s.entry.action = textAt(r, 4);
      s.entry.objectRef = textAt(r, 5);
      s.entry.decision = textAt(r, 6);
      const auto j = nlohmann::json::parse(textAt(r, 7), nullptr, false);
      if (j.is_object()) {
        for (const auto& [k, v] : j.items()) {
          if (k == "reasons" && v.is_array()) {
            for (const auto& reason : v) {
              if (reason.is_string()) s.entry.reasons.push_back(reason.get<std::string>());
            }
          } else if (v.is_string()) {
            s.entry.facts[k] = v.get<std::string>();
          }
        }
      }
      out.push_back(std::move(s));
    }
    return out;
  });
}

core::Result<std::size_t> AuditLog::verify() {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::size_t> {
    std::string expectedPrev = kGenesis;
    std::size_t count = 0;
    soci::rowset<soci::row> rows =
        (sql.prepare << "SELECT seq, at, actor, COALESCE(user_id, ''), action, object_ref, COALESCE(decision, ''), "
                        "details_json, prev_sha256, entry_sha256 FROM audit_log ORDER BY seq");
    for (const auto& r : rows) {
      const long long seq = integerAt(r, 0);
      const std::string prev = textAt(r, 8);
      const std::string hash = entryHash(prev, integerAt(r, 1), textAt(r, 2), textAt(r, 3),
                                         textAt(r, 4), textAt(r, 5), textAt(r, 6),
                                         textAt(r, 7));
      if (prev != expectedPrev || hash != textAt(r, 9)) {
        return core::fail(core::ErrorCode::Internal,
                          "audit log chain is broken at entry " + std::to_string(seq) + " (altered or removed entries)");
      }
      expectedPrev = hash;
      ++count;
    }
    return count;
  });
}

}  // namespace calgate::audit
