#pragma once
/// The sync engine at work inside `calgate serve`: a scheduler that queues a sync of every pair
/// each poll interval (coalesced; a pair whose calendars all have push channels only every
/// safety poll interval, its changes arriving as notifications: PushInbox), the push channels'
/// upkeep (PushMaintainer, when push is on) and a daily purge, and worker threads that run the jobs with
/// providers opened from the accounts' vaulted credentials. At start it takes back the jobs its
/// own dead predecessor left running (ProcessIdentity). Idle workers wake when a job is queued:
/// at once in this process (the signal), from other processes through a ChangeListener; a poll
/// every second stays as the fallback. Every run is fenced by its job's pair lease.

#include "calgate/core/clock.hpp"
#include "calgate/core/signing.hpp"
#include "calgate/policy/org_policy_source.hpp"
#include "calgate/sync/calendar_store.hpp"
#include "calgate/sync/job_queue.hpp"
#include "calgate/sync/job_signal.hpp"
#include "calgate/sync/pair_store.hpp"
#include "calgate/sync/process_identity.hpp"
#include "calgate/sync/push_metrics.hpp"
#include "calgate/sync/shared_pulls.hpp"
#include "calgate/sync/sync_config.hpp"
#include "calgate/sync/sync_engine.hpp"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace calgate::accounts {
class AccountStore;
class ProviderRegistry;
struct ProviderEnvironment;
}  // namespace calgate::accounts

namespace calgate::sync {

/// Opens the provider adapter for a calendar's account. With a `deadline`, everything the adapter
/// does must be over by then (its requests fail with cause BudgetExceeded after it).
class ProviderFactory {
 public:
  using Deadline = std::optional<std::chrono::steady_clock::time_point>;
  virtual ~ProviderFactory() = default;
  virtual core::Result<std::unique_ptr<providers::Provider>> open(const CalendarRef& calendar,
                                                                  Deadline deadline = std::nullopt) = 0;
};

/// Adapters for the calendars' accounts, opened by `registry` with the credential from the vault.
/// A provider the registry has no adapter for is Unavailable. `accounts` and `registry` must
/// outlive the factory. Thread-safe.
std::unique_ptr<ProviderFactory> makeVaultProviderFactory(accounts::AccountStore& accounts,
                                                          const accounts::ProviderRegistry& registry,
                                                          const accounts::ProviderEnvironment& environment);

/// Deleting a pair together with its copies: the pair stops (disabled) at once, and a job
/// ("remove_pair", run by the workers like a sync) deletes every copy through the evaluator's
/// approval (SyncEngine::removeCopies) and then the pair. NotFound for an unknown pair.
core::Result<void> scheduleRemovalWithCopies(store::Database& db, const core::Clock& clock, const std::string& pairId,
                                             JobSignal* signal);

/// Counters for /metrics: writes by provider and action, pulls, queue depth.
struct SyncCounters {
  std::mutex mutex;
  std::map<std::pair<std::string, std::string>, unsigned long long> writes;  // (provider, action)
  unsigned long long runs = 0, failures = 0;
  double runSecondsTotal = 0;
  unsigned long long pulls = 0;
  double pullSecondsTotal = 0;
  std::string render(const sync::QueueStats& queue);
};

class SyncService {
 public:
  SyncService(store::Database& db, policy::OrgPolicySource& orgs, ProviderFactory& providers, const core::Clock& clock,
              SyncConfig config, ProcessIdentity identity);
  ~SyncService();
  void start();
  /// Stops scheduling and lets running jobs finish.
  void stop();
  /// Queues a sync of every runnable pair and a purge (coalesced). Returns how many were new.
  core::Result<std::size_t> schedule();
  /// Runs one job (what a worker does with a claimed job), fenced by its pair lease.
  core::Result<void> handle(const sync::Job& job);
  /// Notified whenever a job is queued in this process: give it to every JobQueue that enqueues
  /// (QueueOptions::signal), so this service's workers start the job at once.
  JobSignal& signal() { return signal_; }
  /// The sync counters, push's (PushMetrics) and the live channels per provider.
  std::string renderMetrics();
  /// Where the webhook endpoints count the notifications this process receives.
  PushMetrics& pushMetrics() { return push_; }
  /// The audit signing key (from the vault): the purge job then signs the audit chain's head
  /// hourly and purges audit entries past retention (after a checkpoint). Without it neither
  /// happens. Call before start().
  void setAuditKey(std::shared_ptr<const core::SigningKey> key) { auditKey_ = std::move(key); }
  /// More retention for the purge job, from libraries the sync library does not depend on (revoked
  /// feeds, PIN counters): called with the current time; returns how many rows went. Call before
  /// start().
  void setRetention(std::function<core::Result<std::size_t>(long long now)> purge) { retention_ = std::move(purge); }
  /// The keyed fingerprints the engine records (SyncOptions::hasher). Call before start().
  void setContentHasher(std::shared_ptr<const policy::ContentHasher> hasher) { hasher_ = std::move(hasher); }

 private:
  void workerLoop(unsigned index);
  void schedulerLoop();
  void listenerLoop();
  core::Result<void> removePair(const sync::Job& job);
  core::Result<void> purge();
  core::Result<std::set<std::string>> pushedCalendars();
  core::Result<void> maintainPush();
  bool lacksPush(const SyncPair& pair, const providers::Provider& source, const providers::Provider& target);
  void requestPushUpkeep();
  /// A job's pair with adapters for both calendars, within the run's time budget.
  struct OpenedPair {
    SyncPair pair;
    std::unique_ptr<providers::Provider> source, target;
    CalendarRef sourceCalendar, targetCalendar;  ///< as read to open the providers
  };
  core::Result<OpenedPair> openPair(const sync::Job& job);

  store::Database& db_;
  policy::OrgPolicySource& orgs_;
  ProviderFactory& providers_;
  const core::Clock& clock_;
  SyncConfig config_;
  ProcessIdentity identity_;
  JobSignal signal_;
  sync::JobQueue queue_;
  SyncCounters counters_;
  PushMetrics push_;
  SharedPulls pulls_{clock_};  ///< one pull per change of a calendar, for every pair reading it
  std::shared_ptr<const core::SigningKey> auditKey_;
  std::shared_ptr<const policy::ContentHasher> hasher_;
  std::function<core::Result<std::size_t>(long long now)> retention_;
  SyncOptions engineOptions() const {
    SyncOptions o = syncOptionsFrom(config_);
    o.hasher = hasher_;
    return o;
  }
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::thread> threads_;
};

}  // namespace calgate::sync
