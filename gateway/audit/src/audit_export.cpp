#include "calgate/audit/audit_export.hpp"

#include "calgate/audit/chain.hpp"
#include "calgate/core/hash.hpp"
#include "calgate/store/row_values.hpp"

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include <limits>
#include <vector>

namespace calgate::audit {
namespace {

using nlohmann::json;
using store::integerAt;
using store::textAt;

constexpr long long kBatch = 5000;

std::string line(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"; }

json checkpointJson(const Checkpoint& c) {
  return {{"type", "checkpoint"}, {"seq", c.seq}, {"hash", c.entrySha256}, {"at", c.at}, {"key_id", c.keyId},
          {"signature", c.signature}};
}

// The exported seq range: entries in the time range, up to the head as it is now.
core::Result<std::pair<long long, long long>> rangeOf(store::Database& db, const ExportFilter& filter) {
  return db.withSession([&](soci::session& sql) -> core::Result<std::pair<long long, long long>> {
    long long first = 0, last = 0;
    soci::indicator a = soci::i_null, b = soci::i_null;
    const long long since = filter.since.value_or(0);
    const long long until = filter.until.value_or(std::numeric_limits<long long>::max());
    sql << "SELECT MIN(seq), MAX(seq) FROM audit_log WHERE at >= :s AND at <= :u", soci::into(first, a), soci::into(last, b),
        soci::use(since), soci::use(until);
    if (a != soci::i_ok || b != soci::i_ok) return core::fail(core::ErrorCode::NotFound, "no audit entries in that time range");
    return std::pair{first, last};
  });
}

struct Writer {
  std::ostream& out;
  const ExportFilter& filter;
  ExportSummary summary;
  ExportSeal seal;
  std::vector<Checkpoint> checkpoints;
  std::size_t nextCheckpoint = 0;
  bool broken = false;  ///< an entry did not link to the one before (purged between batches)

  void entry(const soci::row& r) {
    const long long seq = integerAt(r, 0);
    const std::string user = textAt(r, 3), prev = textAt(r, 8), hash = textAt(r, 9);
    if (summary.firstSeq != 0 && prev != seal.lastHash) broken = true;
    const bool whole = !filter.userId || *filter.userId == user;
    if (summary.firstSeq == 0) summary.firstSeq = seq, seal.firstSeq = seq, seal.firstPrev = prev;
    if (whole) {
      out << line({{"type", "entry"}, {"seq", seq}, {"at", integerAt(r, 1)}, {"actor", textAt(r, 2)}, {"user_id", user},
                   {"action", textAt(r, 4)}, {"object_ref", textAt(r, 5)}, {"decision", textAt(r, 6)},
                   {"details", textAt(r, 7)}, {"prev", prev}, {"hash", hash}});
      ++summary.entries;
    } else {
      out << line({{"type", "link"}, {"seq", seq}, {"prev", prev}, {"hash", hash}});
      ++summary.links;
    }
    seal.digest = exportDigestStep(seal.digest, whole ? 'e' : 'l', seq, hash);
    summary.lastSeq = seal.lastSeq = seq;
    seal.lastHash = hash;
    while (nextCheckpoint < checkpoints.size() && checkpoints[nextCheckpoint].seq <= seq) {
      if (checkpoints[nextCheckpoint].seq == seq) out << line(checkpointJson(checkpoints[nextCheckpoint])), ++summary.checkpoints;
      ++nextCheckpoint;
    }
  }
};

}  // namespace

core::Result<ExportSummary> exportAudit(store::Database& db, const core::Clock& clock, const core::SigningKey& key,
                                        const ExportFilter& filter, std::ostream& out,
                                        const std::function<void(long long, long long)>& progress) {
  auto range = rangeOf(db, filter);
  if (!range) return std::unexpected(range.error());
  const auto [first, last] = *range;
  // the range's end is attested now: this export leaves a checkpoint behind
  if (auto signedEnd = Checkpoints(db, clock, key).sign(last); !signedEnd) return std::unexpected(signedEnd.error());
  auto checkpoints = Checkpoints::between(db, first, last);
  if (!checkpoints) return std::unexpected(checkpoints.error());
  Writer w{out, filter, {}, {}, std::move(*checkpoints), 0};
  w.seal.digest = kGenesis;
  json header = {{"type", "header"}, {"format", "calgate-audit-export/1"}, {"exported_at", clock.nowUnixSeconds()},
                 {"key_id", key.keyId()}, {"public_key", key.publicKey()}};
  header["filter"] = {{"since", filter.since ? json(*filter.since) : json()}, {"until", filter.until ? json(*filter.until) : json()},
                      {"user_id", filter.userId ? json(*filter.userId) : json()}};
  const std::string headerLine = line(header);
  w.seal.headerSha256 = core::sha256Hex(headerLine.substr(0, headerLine.size() - 1));
  out << headerLine;
  for (long long after = first - 1; after < last;) {
    auto batch = db.withSession([&](soci::session& sql) -> core::Result<long long> {
      long long seen = after;
      soci::rowset<soci::row> rows =
          (sql.prepare << "SELECT seq, at, actor, COALESCE(user_id, ''), action, object_ref, COALESCE(decision, ''), "
                          "details_json, prev_sha256, entry_sha256 FROM audit_log WHERE seq > :a AND seq <= :l "
                          "ORDER BY seq LIMIT :n",
           soci::use(after), soci::use(last), soci::use(kBatch));
      for (const auto& r : rows) {
        w.entry(r);
        seen = integerAt(r, 0);
      }
      return seen;
    });
    if (!batch) return std::unexpected(batch.error());
    if (*batch == after || w.broken) break;  // nothing more, or entries purged meanwhile
    after = *batch;
    if (!out) return core::fail(core::ErrorCode::Internal, "the export could not be written");
    if (progress) progress(after, last);
  }
  if (w.broken || w.summary.entries + w.summary.links == 0) {
    // never seal what the reviewer would find broken: a purge ran during the export
    return core::fail(core::ErrorCode::Conflict, "the audit log changed during the export (old entries were purged); "
                                                 "export again");
  }
  w.seal.entries = w.summary.entries;
  w.seal.links = w.summary.links;
  w.seal.at = clock.nowUnixSeconds();
  out << line({{"type", "seal"}, {"first_seq", w.seal.firstSeq}, {"first_prev", w.seal.firstPrev}, {"last_seq", w.seal.lastSeq},
               {"last_hash", w.seal.lastHash}, {"entries", w.seal.entries}, {"links", w.seal.links}, {"digest", w.seal.digest},
               {"at", w.seal.at}, {"key_id", key.keyId()}, {"signature", key.sign(exportSealMessage(w.seal))}});
  out.flush();
  if (!out) return core::fail(core::ErrorCode::Internal, "the export could not be written");
  return w.summary;
}

}  // namespace calgate::audit
