#pragma once
/// The audit log as JSON Lines for a reviewer to take away and verify offline
/// (export_verifier.hpp), streamed in batches: memory stays constant however long the log.
///
/// Line 1 is a header (format "calgate-audit-export/1", the filter, the signing key's id and
/// public key). Then one line per entry of the exported range, by seq: `"type": "entry"` with every
/// stored field and its chain hashes, or, for entries of other users when the export is for one
/// user, `"type": "link"` with only seq and the chain hashes (the chain stays checkable, nobody
/// else's details leave). Stored checkpoints follow the entry they sign (`"type": "checkpoint"`).
/// The last line is the export's seal (`"type": "seal"`): the Ed25519 signature over the range,
/// the counts and a digest of every line's kind, seq and hash. The head of the range is
/// checkpointed first, so every export also leaves a checkpoint in the database. Thread-safe.

#include "calgate/audit/checkpoints.hpp"
#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/core/signing.hpp"
#include "calgate/store/database.hpp"

#include <functional>
#include <optional>
#include <ostream>
#include <string>

namespace calgate::audit {

struct ExportFilter {
  std::optional<long long> since;     ///< entries at or after (unix seconds)
  std::optional<long long> until;     ///< entries at or before (unix seconds)
  std::optional<std::string> userId;  ///< only this user's entries whole; the others as links
};

struct ExportSummary {
  long long entries = 0, links = 0, checkpoints = 0;
  long long firstSeq = 0, lastSeq = 0;  ///< 0 when the range is empty
};

/// Writes the export to `out`. NotFound when no entry falls in the time range; Internal when
/// `out` fails. `progress`, when set, is told the last seq written after each batch.
core::Result<ExportSummary> exportAudit(store::Database& db, const core::Clock& clock, const core::SigningKey& key,
                                        const ExportFilter& filter, std::ostream& out,
                                        const std::function<void(long long seq, long long lastSeq)>& progress = {});

}  // namespace calgate::audit
