#pragma once
/// One row per mirrored event (or occurrence): ids, ETags, times and the hash of the approved
/// write. Never event content. Also the per-pair cursors.

#include "calgate/audit/audit_log.hpp"
#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"

#include <optional>
#include <string>
#include <vector>

namespace calgate::sync {

enum class MappingState {
  Synced,  ///< the copy exists and holds contentSha256
  Denied,  ///< the evaluator refused the source; no copy
  Deleted, ///< the copy is gone: deletedAt set when the source went; unset when a user deleted it
};

struct Mapping {
  std::string pairId;
  std::string sourceCalendarId;
  std::string sourceEventId;
  std::string sourceRecurrenceId;  ///< "" for a whole event or a series master
  std::string sourceEtag;
  std::string targetEventId;
  std::string targetEtag;
  std::string contentSha256;
  long long startAt = 0;
  long long endAt = 0;
  bool allDay = false;
  bool recurring = false;  ///< a series master (start/end are its first occurrence's)
  MappingState state = MappingState::Synced;
  std::optional<long long> deletedAt;
  /// A series the target cannot hold as a rule (Provider::holdsSeries), copied as its occurrences
  /// (mappings of their own, standalone): the end of the window they were expanded over. Set only
  /// on the series' own mapping, which is then Synced with no targetEventId.
  std::optional<long long> expandedUntil;
  long long updatedAt = 0;  ///< when the row was last written (as loaded; saving stamps it anew)
};

/// Mappings by what happened: copied, refused by the evaluator (policy or validation), removed
/// because the source went (or left the window), and kept deleted because a user deleted the copy.
struct MappingCounts {
  long long synced = 0, denied = 0, deleted = 0, keptDeleted = 0;
};

/// What one applied step records: its mappings and, when audited, its entry.
struct StepRecord {
  std::vector<Mapping> mappings;
  std::optional<audit::AuditEntry> entry;
};

/// Thread-safe.
class MappingStore {
 public:
  MappingStore(store::Database& db, const core::Clock& clock) : db_(db), clock_(clock) {}

  core::Result<std::vector<Mapping>> load(const std::string& pairId, const std::string& sourceCalendarId);
  /// Inserts or replaces the mapping with the same pair, source calendar, event and occurrence.
  core::Result<void> save(const Mapping& mapping);
  /// After a write to a target resource, every mapping of that resource (a series and its
  /// occurrences) knows its new ETag, so the next pull does not take it for a user's change.
  core::Result<void> setTargetEtag(const std::string& pairId, const std::string& targetEventId,
                                   const std::string& etag);
  /// After a write: saves the mapping, gives every mapping of its target resource the new ETag, and
  /// appends the audit entry, in one transaction (one commit per copy written).
  core::Result<void> recordWrite(const Mapping& mapping, const audit::AuditEntry& entry);
  /// The same for a step that records several mappings (a series and its occurrences), the audit
  /// entry optional: one transaction.
  core::Result<void> recordAll(const std::vector<Mapping>& mappings, const std::optional<audit::AuditEntry>& entry);
  /// recordAll for several steps, in order, in one transaction (one commit for a group of copies
  /// written: a record lost with a group is made good by idempotent creates on the next run).
  core::Result<void> recordSteps(const std::vector<StepRecord>& steps);
  /// How many of a pair's mappings are in each state (for its status).
  core::Result<MappingCounts> countByState(const std::string& pairId);
  /// Purges soft-deleted mappings deleted before `cutoffUnix`. Returns how many.
  core::Result<std::size_t> purgeDeletedBefore(long long cutoffUnix);

  core::Result<std::string> cursor(const std::string& pairId, const std::string& calendarId);
  /// `takenAt`: when the listing the cursor continues from was taken (copies written after it
  /// that a later incremental listing does not mention are checked).
  core::Result<void> saveCursor(const std::string& pairId, const std::string& calendarId, const std::string& kind,
                                const std::string& value, long long takenAt);
  /// When the pair's cursor of `calendarId` was taken; none before the first run (or version 9).
  core::Result<std::optional<long long>> cursorTakenAt(const std::string& pairId, const std::string& calendarId);

 private:
  store::Database& db_;
  const core::Clock& clock_;
};

std::string_view toString(MappingState s);

}  // namespace calgate::sync
