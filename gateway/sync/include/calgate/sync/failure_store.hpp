#pragma once
/// Source events whose copy the target refused (core::Cause::WriteRefused and other per-event
/// errors): kept per pair and source calendar with the reason, the attempts and the time of the
/// next try (backoff: 1 min, doubling, at most 6 h), so one bad event never stalls a pair and the
/// pair's status names it. Ids and reasons only. Thread-safe.

#include "calgate/audit/audit_log.hpp"
#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"

#include <string>
#include <vector>

namespace calgate::sync {

struct FailingEvent {
  std::string sourceCalendarId;
  std::string sourceEventId;
  std::string reason;
  long long attempts = 0;
  long long firstFailedAt = 0;
  long long nextRetryAt = 0;
};

class FailureStore {
 public:
  FailureStore(store::Database& db, const core::Clock& clock) : db_(db), clock_(clock) {}

  /// One more failed attempt of `eventId`; appends `entry` to the audit log in the same commit.
  core::Result<FailingEvent> record(const std::string& pairId, const std::string& calendarId, const std::string& eventId,
                                    const std::string& reason, const audit::AuditEntry& entry);
  /// Forgets the events of `calendarId` named in `ids` (written fine, or gone).
  core::Result<void> forget(const std::string& pairId, const std::string& calendarId, const std::vector<std::string>& ids);
  /// Every failing event of `calendarId` (the planner retries those due and keeps the others).
  core::Result<std::vector<FailingEvent>> ofCalendar(const std::string& pairId, const std::string& calendarId);
  /// A pair's failing events, the next to be retried first; at most `limit` (0: all).
  core::Result<std::vector<FailingEvent>> list(const std::string& pairId, std::size_t limit = 0);
  core::Result<long long> count(const std::string& pairId);

  /// The wait before the next try after `attempts` failures.
  static long long backoffSeconds(long long attempts);

 private:
  store::Database& db_;
  const core::Clock& clock_;
};

}  // namespace calgate::sync
