#pragma once
/// Source resources a pair cannot take (providers::SkippedResource: several UIDs, no DTSTART, a
/// broken recurrence, a server refusing to return one): kept per pair and source calendar with
/// the reason, so the pair's status and the user's export show them. Ids, ETags and reasons only,
/// never event content. Thread-safe.

#include "calgate/audit/audit_log.hpp"
#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/providers/provider.hpp"
#include "calgate/store/database.hpp"

#include <optional>
#include <string>
#include <vector>

namespace calgate::sync {

struct SkippedEntry {
  std::string sourceCalendarId;
  std::string sourceEventId;
  std::string reason;
  long long firstSeenAt = 0;
  long long seenAt = 0;
};

class SkipStore {
 public:
  SkipStore(store::Database& db, const core::Clock& clock) : db_(db), clock_(clock) {}

  /// Records that `resource` of `calendarId` was skipped. When it is new, or its ETag or reason
  /// changed, `entry` is appended to the audit log in the same transaction and true is returned;
  /// otherwise only the time it was last seen moves (false).
  core::Result<bool> record(const std::string& pairId, const std::string& calendarId,
                            const providers::SkippedResource& resource, const audit::AuditEntry& entry);
  /// Forgets the resources of `calendarId` named in `ids` (read fine again, or deleted).
  core::Result<void> forget(const std::string& pairId, const std::string& calendarId, const std::vector<std::string>& ids);
  /// The ids of `calendarId`'s resources the pair has skipped.
  core::Result<std::vector<std::string>> ids(const std::string& pairId, const std::string& calendarId);
  /// A pair's skipped resources, most recently seen first; at most `limit` (0: all).
  core::Result<std::vector<SkippedEntry>> list(const std::string& pairId, std::size_t limit = 0);
  core::Result<long long> count(const std::string& pairId);

 private:
  store::Database& db_;
  const core::Clock& clock_;
};

}  // namespace calgate::sync
