#include "calgate/audit/audit_log.hpp"

#include "calgate/audit/chain.hpp"
#include "calgate/audit/checkpoints.hpp"
#include "calgate/store/transaction.hpp"

#include <nlohmann/json.hpp>
#include "calgate/store/multi_row.hpp"
#include "calgate/store/row_values.hpp"

#include <soci/soci.h>

#include <cstdlib>
#include <optional>
#include <set>

namespace calgate::audit {

namespace {

using store::integerAt;
using store::textAt;

std::string detailsJson(const AuditEntry& e) {
  nlohmann::json j = nlohmann::json::object();
  if (!e.reasons.empty()) j["reasons"] = e.reasons;
  for (const auto& [k, v] : e.facts) j[k] = v;
  // std::map and arrays: a deterministic serialisation. Reasons may quote what a server or a file
  // said: invalid UTF-8 becomes U+FFFD instead of failing the write it records.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void AuditLog::appendWithin(soci::session& sql, store::Dialect dialect, const AuditEntry& e, long long at) {
  appendAllWithin(sql, dialect, {&e}, at);
}

void AuditLog::appendAllWithin(soci::session& sql, store::Dialect dialect, const std::vector<const AuditEntry*>& entries,
                               long long at) {
  if (entries.empty()) return;
  // appends from several processes must see each other's last hash: serialise them
  if (dialect == store::Dialect::Postgresql) sql << "LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE";
  std::string prev;
  soci::indicator ind = soci::i_null;
  sql << "SELECT entry_sha256 FROM audit_log ORDER BY seq DESC LIMIT 1", soci::into(prev, ind);
  if (!sql.got_data() || ind == soci::i_null) prev = kGenesis;
  // the chain in memory, then the rows in multi-row INSERTs (one round trip per chunk)
  struct Row {
    std::string details, prev, hash;
    soci::indicator userInd = soci::i_ok;
  };
  std::vector<Row> rows(entries.size());  // bound by address: sized before binding
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const AuditEntry& e = *entries[i];
    Row& r = rows[i];
    r.details = detailsJson(e);
    if (r.details.size() > 16384) r.details = R"({"truncated":"details over 16 KiB"})";
    r.prev = prev;
    r.hash = entryHash(prev, {at, e.actor, e.userId, e.action, e.objectRef, e.decision, r.details});
    r.userInd = e.userId.empty() ? soci::i_null : soci::i_ok;
    prev = r.hash;
  }
  constexpr std::size_t kColumns = 9;
  const std::size_t chunk = store::rowsPerStatement(kColumns);
  for (std::size_t from = 0; from < rows.size(); from += chunk) {
    const std::size_t n = std::min(chunk, rows.size() - from);
    const std::string query = "INSERT INTO audit_log (at, actor, user_id, action, object_ref, decision, details_json, "
                              "prev_sha256, entry_sha256) VALUES " + store::valuesList(dialect, n, kColumns);
    store::executeOnce(sql, query, [&](soci::statement& st) {
      for (std::size_t i = from; i < from + n; ++i) {
        const AuditEntry& e = *entries[i];
        st.exchange(soci::use(at));
        st.exchange(soci::use(e.actor));
        st.exchange(soci::use(e.userId, rows[i].userInd));
        const std::initializer_list<const std::string*> texts = {&e.action, &e.objectRef, &e.decision,
                                                                  &rows[i].details, &rows[i].prev, &rows[i].hash};
        for (const std::string* text : texts) {
          st.exchange(soci::use(*text));
        }
      }
    });
  }
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

namespace {

// Where the remaining chain must start: the genesis, or, after a purge, the hash a stored
// checkpoint attests for the entry before the first remaining one.
// With the anchoring checkpoint's seq (nullopt at the genesis).
core::Result<std::pair<std::string, std::optional<long long>>> chainStart(soci::session& sql, long long firstSeq,
                                                                         const std::string& firstPrev,
                                                                         const std::string& publicKey) {
  if (firstPrev == kGenesis) return std::pair{kGenesis, std::optional<long long>()};
  Checkpoint c;
  soci::indicator ind = soci::i_null;
  sql << "SELECT seq, entry_sha256, at, key_id, signature FROM audit_checkpoints WHERE seq < :s ORDER BY seq DESC LIMIT 1",
      soci::into(c.seq, ind), soci::into(c.entrySha256), soci::into(c.at), soci::into(c.keyId), soci::into(c.signature),
      soci::use(firstSeq);
  if (!sql.got_data() || ind != soci::i_ok || c.entrySha256 != firstPrev) {
    return core::fail(core::ErrorCode::Internal, "audit log chain is broken at entry " + std::to_string(firstSeq) +
                                                     ": it does not start at the beginning, and no checkpoint of a purge "
                                                     "anchors it (entries before it were removed)");
  }
  if (!publicKey.empty() && !verifyCheckpoint(c, publicKey)) {
    return core::fail(core::ErrorCode::Internal, "the checkpoint of entry " + std::to_string(c.seq) +
                                                     " that anchors the log after a purge is not signed by the given key");
  }
  return std::pair{firstPrev, std::optional<long long>(c.seq)};
}

}  // namespace

core::Result<std::size_t> AuditLog::verify(const std::string& publicKey) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::size_t> {
    std::map<long long, Checkpoint> checkpoints;  // of remaining entries (few: one per hour at most)
    {
      soci::rowset<soci::row> rows = (sql.prepare << "SELECT seq, entry_sha256, at, key_id, signature FROM audit_checkpoints");
      for (const auto& r : rows) {
        Checkpoint c{integerAt(r, 0), textAt(r, 1), integerAt(r, 2), textAt(r, 3), textAt(r, 4)};
        checkpoints.emplace(c.seq, std::move(c));
      }
    }
    std::string expectedPrev;
    std::optional<long long> anchor;   // the checkpoint the remaining chain starts from, after a purge
    std::set<long long> purgedThrough;  // what the remaining purge records say they removed
    std::size_t count = 0;
    soci::rowset<soci::row> rows =
        (sql.prepare << "SELECT seq, at, actor, COALESCE(user_id, ''), action, object_ref, COALESCE(decision, ''), "
                        "details_json, prev_sha256, entry_sha256 FROM audit_log ORDER BY seq");
    for (const auto& r : rows) {
      const long long seq = integerAt(r, 0);
      const std::string prev = textAt(r, 8), stored = textAt(r, 9);
      if (count == 0) {
        auto start = chainStart(sql, seq, prev, publicKey);
        if (!start) return std::unexpected(start.error());
        expectedPrev = start->first;
        anchor = start->second;
      }
      if (textAt(r, 4) == kPurgeAction) {
        const auto facts = nlohmann::json::parse(textAt(r, 7), nullptr, false);
        if (facts.is_object() && facts.contains("through_seq") && facts["through_seq"].is_string()) {
          purgedThrough.insert(std::strtoll(facts["through_seq"].get<std::string>().c_str(), nullptr, 10));
        }
      }
      const std::string hash =
          entryHash(prev, {integerAt(r, 1), textAt(r, 2), textAt(r, 3), textAt(r, 4), textAt(r, 5), textAt(r, 6), textAt(r, 7)});
      if (prev != expectedPrev || hash != stored) {
        return core::fail(core::ErrorCode::Internal,
                          "audit log chain is broken at entry " + std::to_string(seq) + " (altered or removed entries)");
      }
      if (const auto c = checkpoints.find(seq); c != checkpoints.end()) {
        if (c->second.entrySha256 != stored || (!publicKey.empty() && !verifyCheckpoint(c->second, publicKey))) {
          return core::fail(core::ErrorCode::Internal, "the checkpoint of entry " + std::to_string(seq) +
                                                           " does not match it: the chain up to it was rewritten");
        }
      }
      expectedPrev = hash;
      ++count;
    }
    if (anchor && !purgedThrough.count(*anchor)) {
      return core::fail(core::ErrorCode::Internal, "audit log chain is broken: entries up to " + std::to_string(*anchor) +
                                                       " were removed without a recorded purge");
    }
    return count;
  });
}

core::Result<std::size_t> AuditLog::purgeBefore(long long cutoff, const core::SigningKey& key) {
  auto last = db_.withSession([&](soci::session& sql) -> core::Result<long long> {
    long long seq = 0;
    soci::indicator ind = soci::i_null;
    sql << "SELECT MAX(seq) FROM audit_log WHERE at < :c AND seq < (SELECT MAX(seq) FROM audit_log)", soci::into(seq, ind),
        soci::use(cutoff);
    return ind == soci::i_ok ? seq : 0;
  });
  if (!last) return std::unexpected(last.error());
  if (*last == 0) return std::size_t{0};
  // the anchor first: if the purge dies after it, the log verifies as it was
  if (auto anchored = Checkpoints(db_, clock_, key).sign(*last); !anchored) return std::unexpected(anchored.error());
  return db_.withSession([&](soci::session& sql) -> core::Result<std::size_t> {
    store::WriteTransaction tx(sql, db_.dialect());
    // the lock appends take, first: taking it after the DELETE's would deadlock with another purge
    if (db_.dialect() == store::Dialect::Postgresql) sql << "LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE";
    soci::statement gone = (sql.prepare << "DELETE FROM audit_log WHERE seq <= :s", soci::use(*last));
    gone.execute(true);
    const auto removed = static_cast<std::size_t>(gone.get_affected_rows());
    sql << "DELETE FROM audit_checkpoints WHERE seq < :s", soci::use(*last);
    // the purge is on the record: a log that starts after an anchor nobody recorded lost entries
    AuditEntry e;
    e.action = std::string(kPurgeAction);
    e.objectRef = "audit";
    e.decision = "purged";
    e.facts = {{"through_seq", std::to_string(*last)}, {"entries", std::to_string(removed)}, {"cutoff", std::to_string(cutoff)}};
    appendWithin(sql, db_.dialect(), e, clock_.nowUnixSeconds());
    tx.commit();
    return removed;
  });
}

}  // namespace calgate::audit
