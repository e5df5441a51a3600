#pragma once
/// Work as rows in the database (DESIGN.md §7): pull/sync a pair, purge. A job is leased by one
/// worker for a while; a crashed worker's lease expires and the job runs again. On PostgreSQL
/// jobs are claimed with FOR UPDATE SKIP LOCKED, so several gateway processes share the queue;
/// on SQLite one process works it. Queued jobs with the same coalesce key are one job.
///
/// Runs of one pair never overlap: claiming a pair's job takes the pair's lease row
/// (pair_leases) with a conditional update, which two concurrent claims cannot both pass on any
/// isolation level, and raises its generation. The job carries that generation as its fence;
/// `check` says whether the run still holds the pair, and a run checks it before every provider
/// write and cursor save (a worker that lost its lease stops without writing).
///
/// A job whose run stopped without reporting back (its lease ran out: the process crashed, was
/// killed or hung) counts that attempt; when it is re-taken with no attempts left it is dead and
/// its pair quarantined (PairStore::release lifts it), so one calendar that crashes the process
/// cannot crash-loop the service for everyone.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace soci {
class session;
}

namespace calgate::sync {

/// Where enqueue() announces new jobs to other processes (store::ChangeListener).
inline constexpr const char* kJobsChannel = "calgate_jobs";

struct Job {
  std::string id;
  std::string kind;     ///< "sync_pair" | "purge"
  std::string pairId;   ///< "" for jobs about no pair
  int attempts = 0;     ///< including this one
  int maxAttempts = 10;
  long long fence = 0;  ///< the pair lease's generation this run holds (0: a job about no pair)
  /// When the earliest push notification this run serves arrived (unix ms; enqueueNotified).
  std::optional<long long> notifiedAtMs{};
  /// When the latest request this run serves was made (unix ms; none for a job queued before
  /// calgate kept it): a pull of its calendars started at or after it reflects every change
  /// announced to it (SyncEngine::sharePulls).
  std::optional<long long> requestedAtMs{};
};

class JobSignal;

struct QueueOptions {
  std::chrono::seconds lease{300};        ///< a job's run must finish (or renew) within this
  std::chrono::seconds firstRetry{5};     ///< backoff: first retry after this, doubling...
  std::chrono::seconds maxRetry{3600};    ///< ...up to this
  int maxAttempts = 10;                   ///< of a job queued from now on; then it is dead
  /// Notified when a job is queued or a pair's job finishes (so a follow-up can start); may be null.
  JobSignal* signal = nullptr;
  /// Test hook: called inside claim() after a job was chosen and before its pair is taken (tests
  /// put a barrier there to make two claims meet).
  std::function<void()> afterChoosing;
};

struct QueueStats {
  long long queued = 0;
  long long running = 0;
  long long dead = 0;
  long long oldestQueuedAgeSeconds = 0;  ///< of runnable queued jobs; 0 when none
  long long quarantinedPairs = 0;
};

/// What a running sync said last about itself (JobQueue::progress).
struct RunProgress {
  std::string step;          ///< "pulling" | "writing"
  long long planned = 0;     ///< provider writes the run planned (known from "writing" on)
  long long written = 0;     ///< of those, done
  long long updatedAt = 0;   ///< unix seconds
};

struct PairJobState {
  bool queued = false;
  bool running = false;
  int attempts = 0;                    ///< of the pair's current job, if any
  std::optional<long long> nextRunAt;  ///< when the queued one is due
  std::optional<RunProgress> progress{};  ///< of the running sync, while it holds the pair
};

/// Thread-safe; several processes may share one PostgreSQL queue.
class JobQueue {
 public:
  JobQueue(store::Database& db, const core::Clock& clock, QueueOptions options = {});

  /// Queues a job to run after `delay`. When a job with the same `coalesceKey` is already queued,
  /// or is a dead worker's job waiting to run again (its lease ran out or was reclaimed), nothing
  /// is added and the result is false; that job then serves this request too (Job::requestedAtMs
  /// moves on to now). A new job wakes workers: this process's through
  /// the signal, other processes' through NOTIFY calgate_jobs (PostgreSQL).
  core::Result<bool> enqueue(const std::string& kind, const std::string& pairId, const std::string& coalesceKey,
                             std::chrono::seconds delay = std::chrono::seconds(0));
  struct PairRequest {
    std::string pairId;
    std::string coalesceKey;
  };
  /// enqueue() of several jobs of `kind` at once, due now (a poll tick): a few hundred per commit,
  /// one wake-up each, and one statement per request once its job is queued (three, each prepared
  /// anew, cost a tick ~1 ms per pair on PostgreSQL). Returns how many were added.
  core::Result<std::size_t> enqueueAll(const std::string& kind, const std::vector<PairRequest>& requests);
  /// enqueue() at once for a push notification that arrived at `notifiedAtMs` (unix ms): the job,
  /// new or the one it coalesces with, remembers the earliest notification it serves (Job::
  /// notifiedAtMs, for the push-to-write latency). A run that fails hands it on to its queued twin.
  core::Result<bool> enqueueNotified(const std::string& kind, const std::string& pairId,
                                     const std::string& coalesceKey, long long notifiedAtMs);
  /// Leases the next due job (or one whose lease expired) to `owner`, with its pair; nullopt when
  /// none is due. Never a job of a pair whose run is going on, or of a quarantined pair. An
  /// expired job with no attempts left is made dead here (and its pair quarantined, audited). A
  /// dead worker's job goes before queued ones of its priority, and taking it removes the queued
  /// job of its coalesce key (the new run serves that request too).
  core::Result<std::optional<Job>> claim(const std::string& owner);
  /// Extends the lease of a job `owner` is still running, and of its pair (a heartbeat while it
  /// runs). Conflict with cause LeaseLost when the lease was lost: another worker may have it now.
  core::Result<void> renew(const Job& job, const std::string& owner);
  /// Whether the run of `job` still holds its pair: the pair's lease carries the job's fence and
  /// has not run out. Conflict with cause LeaseLost otherwise. Always fine for a job about no pair.
  core::Result<void> check(const Job& job);
  /// The job is done: removed and its pair released, if `owner` still holds its lease (Conflict
  /// with cause LeaseLost otherwise).
  core::Result<void> complete(const Job& job, const std::string& owner);
  /// The job failed: queued again after an exponential backoff (at least the error's
  /// retryAfter), or marked dead after its last attempt. A queued twin absorbs it.
  core::Result<void> fail(const Job& job, const std::string& owner, const core::Error& error);
  /// Makes the jobs of dead owners runnable at once (instead of after their lease): the running
  /// jobs whose lease owner `isDead` says stopped, with their pairs. Their attempt stays counted.
  /// Returns how many were reclaimed.
  core::Result<std::size_t> reclaim(const std::function<bool(const std::string& owner)>& isDead);
  /// Whether claim() would find a job now (a read: no write lock taken).
  core::Result<bool> hasRunnable();
  core::Result<QueueStats> stats();
  /// Whether a sync of the pair is queued or running (for its status), and how far it got.
  core::Result<PairJobState> pairJob(const std::string& pairId);
  /// The run of `job` reports how far it got (shown by pairJob while it holds the pair). Ignored
  /// (no error) when the run no longer holds the pair; a job about no pair has nothing to report.
  core::Result<void> progress(const Job& job, const RunProgress& progress);
  std::chrono::seconds lease() const { return options_.lease; }
  /// The delay before attempt `attempts + 1`, without jitter.
  std::chrono::seconds backoff(int attempts, const core::Error& error) const;

 private:
  enum class Claimed { Job, None, Again };
  core::Result<bool> insert(const std::string& kind, const std::string& pairId, const std::string& coalesceKey,
                            std::chrono::seconds delay, std::optional<long long> notifiedAtMs);
  core::Result<Claimed> claimOnce(const std::string& owner, Job& job);
  core::Result<void> failOnce(const Job& job, const std::string& owner, const core::Error& error);
  void wake(soci::session& sql);
  store::Database& db_;
  const core::Clock& clock_;
  QueueOptions options_;
};

}  // namespace calgate::sync
