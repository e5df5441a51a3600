#pragma once
/// Work as rows in the database (DESIGN.md §7): pull/sync a pair, purge. A job is leased by one
/// worker for a while; a crashed worker's lease expires and the job runs again. On PostgreSQL
/// jobs are claimed with FOR UPDATE SKIP LOCKED, so several gateway processes share the queue;
/// on SQLite one process works it. Queued jobs with the same coalesce key are one job.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace calgate::sync {

struct Job {
  std::string id;
  std::string kind;     ///< "sync_pair" | "purge"
  std::string pairId;   ///< "" for jobs about no pair
  int attempts = 0;     ///< including this one
  int maxAttempts = 10;
};

struct QueueOptions {
  std::chrono::seconds lease{300};        ///< a job's run must finish (or renew) within this
  std::chrono::seconds firstRetry{5};     ///< backoff: first retry after this, doubling...
  std::chrono::seconds maxRetry{3600};    ///< ...up to this
};

struct QueueStats {
  long long queued = 0;
  long long running = 0;
  long long dead = 0;
  long long oldestQueuedAgeSeconds = 0;  ///< of runnable queued jobs; 0 when none
};

struct PairJobState {
  bool queued = false;
  bool running = false;
  int attempts = 0;                    ///< of the pair's current job, if any
  std::optional<long long> nextRunAt;  ///< when the queued one is due
};

/// Thread-safe; several processes may share one PostgreSQL queue.
class JobQueue {
 public:
  JobQueue(store::Database& db, const core::Clock& clock, QueueOptions options = {});

  /// Queues a job to run after `delay`. When a job with the same `coalesceKey` is already queued,
  /// nothing is added and the result is false.
  core::Result<bool> enqueue(const std::string& kind, const std::string& pairId, const std::string& coalesceKey,
                             std::chrono::seconds delay = std::chrono::seconds(0));
  /// Leases the next due job (or one whose lease expired) to `owner`; nullopt when none is due.
  core::Result<std::optional<Job>> claim(const std::string& owner);
  /// Extends the lease of a job `owner` is still running (a heartbeat while it runs). Conflict
  /// with cause LeaseLost when the lease was lost: another worker may have the job now.
  core::Result<void> renew(const Job& job, const std::string& owner);
  /// The job is done: removed, if `owner` still holds its lease (Conflict with cause LeaseLost
  /// otherwise).
  core::Result<void> complete(const Job& job, const std::string& owner);
  /// The job failed: queued again after an exponential backoff (at least the error's
  /// retryAfter), or marked dead after its last attempt. A queued twin absorbs it.
  core::Result<void> fail(const Job& job, const std::string& owner, const core::Error& error);
  core::Result<QueueStats> stats();
  /// Whether a sync of the pair is queued or running (for its status).
  core::Result<PairJobState> pairJob(const std::string& pairId);
  std::chrono::seconds lease() const { return options_.lease; }
  /// The delay before attempt `attempts + 1`, without jitter.
  std::chrono::seconds backoff(int attempts, const core::Error& error) const;

 private:
  core::Result<void> failOnce(const Job& job, const std::string& owner, const core::Error& error);
  store::Database& db_;
  const core::Clock& clock_;
  QueueOptions options_;
};

}  // namespace calgate::sync
