#include "calgate/audit/checkpoints.hpp"

#include "calgate/audit/chain.hpp"
#include "calgate/store/row_values.hpp"
#include "calgate/store/transaction.hpp"

#include <soci/soci.h>

namespace calgate::audit {

bool verifyCheckpoint(const Checkpoint& c, std::string_view publicKey) {
  return c.keyId == core::keyIdOf(publicKey) &&
         core::verifySignature(publicKey, checkpointMessage(c.seq, c.entrySha256, c.at), c.signature);
}

namespace {

// Whether the chain up to entry `to` extends what calgate signed before: from the newest earlier
// checkpoint (whose entry must still have the signed hash), or from the genesis when there is none,
// every entry links to its predecessor and hashes to what is stored. Internal naming the entry
// otherwise: calgate never signs a chain it cannot vouch for.
core::Result<void> extendsSigned(soci::session& sql, long long to) {
  long long from = 0;
  std::string expected = kGenesis, signedHash;
  soci::indicator ind = soci::i_null;
  sql << "SELECT seq, entry_sha256 FROM audit_checkpoints WHERE seq < :t ORDER BY seq DESC LIMIT 1", soci::into(from, ind),
      soci::into(signedHash), soci::use(to);
  if (sql.got_data() && ind == soci::i_ok) {
    std::string stored;
    soci::indicator storedInd = soci::i_null;
    sql << "SELECT entry_sha256 FROM audit_log WHERE seq = :s", soci::into(stored, storedInd), soci::use(from);
    // a checkpoint of a purged entry anchors the first remaining one (its prev is checked below)
    if (sql.got_data() && storedInd == soci::i_ok && stored != signedHash) {
      return core::fail(core::ErrorCode::Internal, "audit entry " + std::to_string(from) +
                                                       " no longer has the hash calgate signed: the log was rewritten");
    }
    expected = signedHash;
  }
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT seq, at, actor, COALESCE(user_id, ''), action, object_ref, COALESCE(decision, ''), "
                      "details_json, prev_sha256, entry_sha256 FROM audit_log WHERE seq > :f AND seq <= :t ORDER BY seq",
       soci::use(from), soci::use(to));
  for (const auto& r : rows) {
    const std::string prev = store::textAt(r, 8), stored = store::textAt(r, 9);
    const ChainFields f{store::integerAt(r, 1), store::textAt(r, 2), store::textAt(r, 3), store::textAt(r, 4),
                        store::textAt(r, 5), store::textAt(r, 6), store::textAt(r, 7)};
    if (prev != expected || entryHash(prev, f) != stored) {
      return core::fail(core::ErrorCode::Internal, "audit entry " + std::to_string(store::integerAt(r, 0)) +
                                                       " does not extend the signed chain: the log was changed; not signing it");
    }
    expected = stored;
  }
  return {};
}

}  // namespace

core::Result<Checkpoint> Checkpoints::sign(long long seq) {
  return db_.withSession([&](soci::session& sql) -> core::Result<Checkpoint> {
    store::WriteTransaction tx(sql, db_.dialect());
    Checkpoint c;
    c.seq = seq;
    soci::indicator ind = soci::i_null;
    sql << "SELECT entry_sha256 FROM audit_log WHERE seq = :s", soci::into(c.entrySha256, ind), soci::use(seq);
    if (!sql.got_data() || ind != soci::i_ok) {
      return core::fail(core::ErrorCode::NotFound, "no audit entry " + std::to_string(seq));
    }
    // signed before: the signature stands, and must still match (evidence is never replaced)
    Checkpoint before;
    soci::indicator beforeInd = soci::i_null;
    sql << "SELECT seq, entry_sha256, at, key_id, signature FROM audit_checkpoints WHERE seq = :s", soci::into(before.seq, beforeInd),
        soci::into(before.entrySha256), soci::into(before.at), soci::into(before.keyId), soci::into(before.signature),
        soci::use(seq);
    if (sql.got_data() && beforeInd == soci::i_ok) {
      if (before.entrySha256 != c.entrySha256) {
        return core::fail(core::ErrorCode::Internal, "audit entry " + std::to_string(seq) +
                                                         " no longer has the hash calgate signed: the log was rewritten");
      }
      return before;
    }
    if (auto ok = extendsSigned(sql, seq); !ok) return std::unexpected(ok.error());
    c.at = clock_.nowUnixSeconds();
    c.keyId = key_.keyId();
    c.signature = key_.sign(checkpointMessage(c.seq, c.entrySha256, c.at));
    // another process signing the same entry at once signed the same hash: its row stands
    sql << "INSERT INTO audit_checkpoints (seq, entry_sha256, at, key_id, signature) VALUES (:s, :h, :a, :k, :g) "
           "ON CONFLICT DO NOTHING",
        soci::use(c.seq), soci::use(c.entrySha256), soci::use(c.at), soci::use(c.keyId), soci::use(c.signature);
    tx.commit();
    return c;
  });
}

core::Result<std::optional<Checkpoint>> Checkpoints::signHead(long long minAge) {
  auto due = db_.withSession([&](soci::session& sql) -> core::Result<std::optional<long long>> {
    long long head = 0, signedSeq = 0, signedAt = 0;
    soci::indicator headInd = soci::i_null, seqInd = soci::i_null, atInd = soci::i_null;
    sql << "SELECT MAX(seq) FROM audit_log", soci::into(head, headInd);
    if (headInd != soci::i_ok) return std::optional<long long>();
    sql << "SELECT MAX(seq), MAX(at) FROM audit_checkpoints", soci::into(signedSeq, seqInd), soci::into(signedAt, atInd);
    if (seqInd == soci::i_ok && signedSeq >= head) return std::optional<long long>();
    if (atInd == soci::i_ok && clock_.nowUnixSeconds() - signedAt < minAge) return std::optional<long long>();
    return std::optional<long long>(head);
  });
  if (!due) return std::unexpected(due.error());
  if (!*due) return std::optional<Checkpoint>();
  auto c = sign(**due);
  if (!c) return std::unexpected(c.error());
  return std::optional<Checkpoint>(std::move(*c));
}

core::Result<std::vector<Checkpoint>> Checkpoints::between(store::Database& db, long long fromSeq, long long toSeq) {
  return db.withSession([&](soci::session& sql) -> core::Result<std::vector<Checkpoint>> {
    std::vector<Checkpoint> out;
    soci::rowset<soci::row> rows = (sql.prepare << "SELECT seq, entry_sha256, at, key_id, signature FROM audit_checkpoints "
                                                   "WHERE seq >= :f AND seq <= :t ORDER BY seq",
                                    soci::use(fromSeq), soci::use(toSeq));
    for (const auto& r : rows) {
      out.push_back({store::integerAt(r, 0), store::textAt(r, 1), store::integerAt(r, 2), store::textAt(r, 3),
                     store::textAt(r, 4)});
    }
    return out;
  });
}

}  // namespace calgate::audit
