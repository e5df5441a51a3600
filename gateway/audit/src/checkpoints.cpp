#include "calgate/audit/checkpoints.hpp"

#include "calgate/audit/chain.hpp"
#include "calgate/store/row_values.hpp"

#include <soci/soci.h>

namespace calgate::audit {

bool verifyCheckpoint(const Checkpoint& c, std::string_view publicKey) {
  return c.keyId == core::keyIdOf(publicKey) &&
         core::verifySignature(publicKey, checkpointMessage(c.seq, c.entrySha256, c.at), c.signature);
}

core::Result<Checkpoint> Checkpoints::sign(long long seq) {
  return db_.withSession([&](soci::session& sql) -> core::Result<Checkpoint> {
    Checkpoint c;
    c.seq = seq;
    soci::indicator ind = soci::i_null;
    sql << "SELECT entry_sha256 FROM audit_log WHERE seq = :s", soci::into(c.entrySha256, ind), soci::use(seq);
    if (!sql.got_data() || ind != soci::i_ok) {
      return core::fail(core::ErrorCode::NotFound, "no audit entry " + std::to_string(seq));
    }
    c.at = clock_.nowUnixSeconds();
    c.keyId = key_.keyId();
    c.signature = key_.sign(checkpointMessage(c.seq, c.entrySha256, c.at));
    // a later signature of the same entry replaces the earlier (both attest the same hash)
    sql << "DELETE FROM audit_checkpoints WHERE seq = :s", soci::use(seq);
    sql << "INSERT INTO audit_checkpoints (seq, entry_sha256, at, key_id, signature) VALUES (:s, :h, :a, :k, :g)",
        soci::use(c.seq), soci::use(c.entrySha256), soci::use(c.at), soci::use(c.keyId), soci::use(c.signature);
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
