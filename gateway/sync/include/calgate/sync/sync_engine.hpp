#pragma once
/// The sync engine (DESIGN.md §7): runs one pair as plan + apply. It pulls both calendars, reads
/// what the planner asks for, plans every step (sync_plan.hpp: mirror each side's originals into
/// the other, restore or respect copies a user changed, propagate deletions, all with the policy
/// evaluator's approved writes), lets the mass-delete guard judge the plan, then applies it:
/// write -> record -> audit per step. The preview is the same plan, not applied.
/// Generic over providers::Provider.

#include "calgate/core/clock.hpp"
#include "calgate/policy/content_hash.hpp"
#include "calgate/core/error.hpp"
#include "calgate/policy/org_policy_source.hpp"
#include "calgate/policy/write_context.hpp"
#include "calgate/providers/provider.hpp"
#include "calgate/store/database.hpp"
#include "calgate/sync/calendar_store.hpp"
#include "calgate/sync/sync_config.hpp"
#include "calgate/sync/sync_plan.hpp"

#include <cstddef>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace calgate::sync {

class SharedPulls;

struct SyncPair;

struct SyncOptions {
  /// Mass-delete guard: a run that would delete more than this share of a direction's copies...
  double massDeleteShare = 0.5;
  /// ...and at least this many pauses the pair until a user confirms.
  std::size_t massDeleteMinimum = 10;
  /// Copies a user deleted in the target: recreate them (true) or leave them deleted while their
  /// source is unchanged (false, the default).
  bool restoreDeletedCopies = false;
  /// Fingerprints of what the copies hold, keyed with the vault's key (policy::ContentHasher);
  /// null: unkeyed. Copies recorded with the other form are re-recorded, never rewritten.
  std::shared_ptr<const policy::ContentHasher> hasher;
  /// The records of up to this many applied steps (mappings and audit entries) are committed
  /// together, and at the latest `recordDelay` after the first of them was applied, and at the end
  /// of a run (also one that fails). A crash loses at most one group's records: their copies are
  /// found again by idempotent creates (WriteResult::existed) and ETag checks on the next run.
  std::size_t recordGroup = 64;
  std::chrono::milliseconds recordDelay{1000};
  /// Test hook called at every step boundary of a write: "before_write", "after_write",
  /// "after_record" (once the step's group is committed). An error aborts the run there, as a
  /// crash would.
  std::function<core::Result<void>(std::string_view point)> failpoint;
};

/// The options a service runs with, from its `sync:` configuration.
SyncOptions syncOptionsFrom(const SyncConfig& config);

/// What one run did. `paused`: the guard holds the plan (only policy-required deletions ran,
/// cursors not advanced; the pair waits for a confirmation).
struct SyncReport {
  std::size_t created = 0, updated = 0, deleted = 0, restored = 0, unchanged = 0, denied = 0;
  std::size_t skippedCopies = 0;       ///< calgate's own copies seen in a pull (never mirrored)
  std::size_t respectedDeletions = 0;  ///< copies a user deleted, left deleted
  std::size_t skippedResources = 0;    ///< source resources calgate cannot take (shown in the pair's status)
  std::size_t recovered = 0;  ///< copies a crashed earlier attempt had created: found and updated (a second write)
  bool paused = false;
  bool skipped = false;                ///< the pair is disabled, or its user suspended
  std::vector<StepSummary> steps;      ///< what was applied, in order
  std::vector<std::string> failedEvents;  ///< source events whose copy the target refused this run
  double pullSeconds = 0;              ///< time spent pulling both calendars
  std::size_t writes() const { return created + updated + deleted + restored; }
};

/// Called once per provider write, for metrics: provider name and "create" | "update" | "delete".
using WriteObserver = std::function<void(std::string_view provider, std::string_view action)>;

/// Told how far a run got: "pulling" when it starts reading, "writing" with the provider writes it
/// planned once the plan stands (writes done are counted through the WriteObserver).
using ProgressObserver = std::function<void(std::string_view step, std::size_t planned)>;

/// Whether the run still holds its pair (JobQueue::check): asked before every provider write and
/// before the cursors are saved; an error stops the run there, nothing more written. Empty: a
/// run outside the job queue (tests, tools), which the caller keeps exclusive itself.
using RunFence = std::function<core::Result<void>()>;

/// What removing a pair's copies did.
struct CopyRemoval {
  std::size_t removed = 0;  ///< copies deleted (or already gone)
  std::size_t failed = 0;   ///< copies the server refused to delete (audited)
};

/// Which listings a plan starts from.
enum class PlanScope {
  NextRun,     ///< the pair's cursors, exactly as its next run: what preview and sync share
  Everything,  ///< complete listings: every event in the window (as after a change of rules)
};

/// Thread-safe if the providers are; runs of the same pair must not overlap (the job queue
/// guarantees that: one job per pair at a time, fenced by `fence`).
class SyncEngine {
 public:
  SyncEngine(store::Database& db, policy::OrgPolicySource& orgPolicies, const core::Clock& clock, SyncOptions options = {});
  /// `source` serves the pair's source calendar, `target` its target calendar.
  core::Result<SyncReport> syncPair(const std::string& pairId, providers::Provider& source,
                                    providers::Provider& target, const RunFence& fence = {});
  /// The same for a pair and its two calendars the caller has just read (to open its providers):
  /// they are not read again. `pair` must be the stored one, read in this unit of work.
  core::Result<SyncReport> syncPair(const SyncPair& pair, const CalendarRef& sourceCalendar,
                                    const CalendarRef& targetCalendar, providers::Provider& source,
                                    providers::Provider& target, const RunFence& fence = {});
  /// The plan a run would apply now, without writing anything (no provider write, mapping,
  /// cursor or pause). NotFound for an unknown pair; provider errors as they come.
  core::Result<PairPlan> planPair(const std::string& pairId, providers::Provider& source, providers::Provider& target,
                                  PlanScope scope = PlanScope::NextRun);
  /// Deletes every copy the pair wrote (both directions of a two-way pair), each through the
  /// evaluator's approved Delete for a cancelled stand-in of its source, audited with cause
  /// pair_deleted. A copy the server refuses is audited and counted as failed; a failure of the
  /// server or the account stops it with that error (to be retried). The pair itself stays.
  core::Result<CopyRemoval> removeCopies(const std::string& pairId, providers::Provider& source,
                                         providers::Provider& target, const RunFence& fence = {});
  /// Pulls go through `pulls` (may be null: every pull its own), for a run serving a request made
  /// at `requestedAtMs` (unix ms; none: only a pull of its own serves it). `pulls` must outlive
  /// the engine's runs.
  void sharePulls(SharedPulls* pulls, std::optional<long long> requestedAtMs) {
    shared_ = pulls;
    requestedAtMs_ = requestedAtMs;
  }
  void setWriteObserver(WriteObserver observer) { observer_ = std::move(observer); }
  void setProgressObserver(ProgressObserver observer) { progress_ = std::move(observer); }

 private:
  core::Result<PairPlan> plan(const SyncPair& pair, const CalendarRef& sourceCal, const CalendarRef& targetCal,
                              providers::Provider& source, providers::Provider& target, PlanScope scope,
                              bool recordPullFailure);
  core::Result<void> settleGuard(const SyncPair& pair, const PairPlan& plan);
  core::Result<void> finish(const SyncPair& pair, const PairPlan& plan, const SyncReport& report,
                            const RunFence& fence);
  store::Database& db_;
  policy::OrgPolicySource& orgPolicies_;
  const core::Clock& clock_;
  SyncOptions options_;
  WriteObserver observer_;
  ProgressObserver progress_;
  SharedPulls* shared_ = nullptr;
  std::optional<long long> requestedAtMs_;
};

/// Seconds since the epoch of an event time, for windows and ordering (a date at 00:00 UTC, a
/// floating time read as UTC: good enough against windows measured in days).
long long unixOf(const model::EventTime& t);
/// Where the evaluator's approval for an event of `from` (or one occurrence: `recurrenceId`) is
/// written: the pair (and its copy seed), the source key, and the target calendar's provider,
/// domain and zone.
/// The organisation policies that apply to events of `calendar` as a source: one per domain its
/// account is proven to belong to (model::policyDomains), in that order; the strictest applies.
std::vector<policy::OrgPolicy> organisationPolicies(policy::OrgPolicySource& source, const CalendarRef& calendar);

policy::WriteContext writeContext(const SyncPair& pair, const CalendarRef& from, const CalendarRef& to,
                                  const std::string& eventId, const std::string& recurrenceId);

/// The key of a source event or occurrence within a pair: ids only ("<calendar>|<event>|<occurrence>").
std::string sourceKey(std::string_view calendarId, std::string_view eventId, std::string_view recurrenceId);
/// A stable text for an occurrence's RECURRENCE-ID ("" for none).
std::string recurrenceKey(const model::Event& event);

}  // namespace calgate::sync
