#pragma once
/// The append-only, hash-chained audit trail (DESIGN.md §8): every entry's SHA-256 covers the
/// previous entry's hash and its own fields (chain.hpp), so removing or editing an entry breaks the
/// chain; signed checkpoints (checkpoints.hpp) pin it against a rewrite of the whole chain.
/// Entries name ids and decisions, never event content. Old entries go by retention
/// (purgeBefore): the checkpoint of the last one removed anchors what remains.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/core/signing.hpp"
#include "calgate/store/database.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace calgate::audit {

struct AuditEntry {
  std::string actor = "system";  ///< "system", "admin", or a user id
  std::string userId;            ///< whose data it concerns ("" for none)
  std::string action;            ///< e.g. "sync.write", "sync.delete", "sync.deny", "sync.guard"
  std::string objectRef;         ///< ids only: pair id, mapping key...
  std::string decision;          ///< e.g. "create", "update", "denied", "paused"
  std::vector<std::string> reasons;          ///< the evaluator's reasons
  std::map<std::string, std::string> facts;  ///< other details (counts, provider, ids)
};

/// The entry a retention purge appends: facts through_seq (the last entry removed, whose checkpoint
/// anchors the rest), entries, cutoff.
inline constexpr std::string_view kPurgeAction = "audit.purge";

struct StoredEntry {
  long long seq = 0;
  long long at = 0;
  AuditEntry entry;
};

/// Thread-safe; appends from several processes serialise on the database.
class AuditLog {
 public:
  AuditLog(store::Database& db, const core::Clock& clock) : db_(db), clock_(clock) {}
  core::Result<void> append(const AuditEntry& entry);
  /// Appends inside the caller's open write transaction (so an entry commits with what it
  /// describes). Throws on database errors, like any statement inside Database::withSession.
  static void appendWithin(soci::session& sql, store::Dialect dialect, const AuditEntry& entry, long long at);
  /// appendWithin for several entries, in order: the chain's last hash is read once and the insert
  /// prepared once (a group of records committed together).
  static void appendAllWithin(soci::session& sql, store::Dialect dialect, const std::vector<const AuditEntry*>& entries,
                              long long at);
  /// Entries with seq > `afterSeq`, oldest first, at most `limit`.
  core::Result<std::vector<StoredEntry>> read(long long afterSeq, std::size_t limit);
  /// Re-computes the chain: Internal naming the first broken seq when an entry was altered or
  /// removed. A log whose start was purged must begin where a stored checkpoint left off. With a
  /// `publicKey` (base64), every stored checkpoint must be signed by it and match its entry.
  core::Result<std::size_t> verify(const std::string& publicKey = "");
  /// Removes entries older than `cutoff` (unix seconds), never the newest one (the chain goes on
  /// from it), after `key` signed a checkpoint of the last entry removed: what remains still
  /// verifies. Older checkpoints go too. Returns how many entries were removed.
  core::Result<std::size_t> purgeBefore(long long cutoff, const core::SigningKey& key);

 private:
  store::Database& db_;
  const core::Clock& clock_;
};

}  // namespace calgate::audit
