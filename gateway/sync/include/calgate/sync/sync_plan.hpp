#pragma once
/// A pair's plan (DESIGN.md §7, docs/architecture.md "Plan and apply"): everything one run will do,
/// decided before anything is written. The planner is pure: from the pair's mappings, both
/// calendars' change sets, the reads it asked for ("does this source event still exist?"), the
/// pair's rules, the organisation policy and the window it derives the steps, each with the
/// evaluator's approved write and reasons. The applier writes them in order; the preview
/// (GET /v1/pairs/{id}/preview) renders the same plan, so preview and sync cannot disagree.
///
/// Values only; no references into stores or providers. Safe to copy and to read from any thread.

#include "calgate/policy/approved_write.hpp"
#include "calgate/policy/evaluator.hpp"
#include "calgate/policy/org_policy.hpp"
#include "calgate/providers/provider.hpp"
#include "calgate/sync/calendar_store.hpp"
#include "calgate/sync/failure_store.hpp"
#include "calgate/sync/mapping_store.hpp"

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace calgate::sync {

/// What a step means to the user.
enum class StepKind {
  Create,       ///< a new copy
  Update,       ///< the copy changes with its source
  Restore,      ///< a copy someone changed (or deleted, with restore on) is written back from its source
  Delete,       ///< the copy (or one occurrence of a series copy) goes; or, without a copy, its mappings retire
  Deny,         ///< the evaluator refuses the source: no copy
  Unchanged,    ///< nothing to write: the copy is current
  Skipped,      ///< a source resource calgate cannot take (providers::SkippedResource): shown, audited, kept
  KeepDeleted,  ///< a copy someone deleted in the target stays deleted
};

/// Why a deletion (or a kept deletion) happens. The mass-delete guard holds only the ones the
/// source or one target listing caused; what the policy requires is never held.
enum class StepCause {
  None,
  SourceDeleted,        ///< the source event vanished (guarded)
  LeftWindow,           ///< the source moved outside the sync window (guarded)
  SourceCancelled,      ///< the source event or series was cancelled (guarded)
  UserDeleted,          ///< one target listing no longer shows the copy (guarded)
  SourceRejected,       ///< the source can no longer be approved (unknown zone, broken recurrence) (guarded)
  OccurrenceCancelled,  ///< one occurrence leaves a series copy (the copy stays)
  Rebuild,              ///< the copy is deleted and written anew (a withdrawn exception; a type the target cannot change)
  PolicyRequired,       ///< the organisation policy or the pair's new rules require it (never held): a
                        ///< blocked target's copies go, a copy re-rendered under new rules is rewritten
};

/// The provider call a step makes.
enum class WriteOp { None, Create, Update, Remove };

struct PlanStep {
  StepKind kind = StepKind::Unchanged;
  StepCause cause = StepCause::None;
  WriteOp op = WriteOp::None;
  std::string eventId;       ///< the source event
  std::string recurrenceId;  ///< recurrenceKey() of an occurrence; "" for an event or a series
  /// An occurrence copied as an event of its own (its series is not in the source: an invitation
  /// to one occurrence): its copy is a resource of its own, not part of a series copy.
  bool standalone = false;
  std::optional<policy::ApprovedWrite> write;  ///< set for every op but None
  policy::EffectiveMode mode = policy::EffectiveMode::Denied;
  std::vector<std::string> reasons;
  /// Mappings saved once the write is done (with the audit entry, in one commit). A record whose
  /// targetEventId is kNewCopy gets the id the write returned. Empty: nothing new to record.
  std::vector<Mapping> records;
  bool audited = false;      ///< an audit entry goes with the records
  bool etagFromListing = false;  ///< the records carry the copy's ETag as just listed (keep it)
  long long startAt = 0, endAt = 0;  ///< the source's times (for display)
  bool allDay = false, recurring = false;

  /// Whether the mass-delete guard counts this step.
  bool guarded() const;
};

/// The target id a plan gives a copy it creates, until the applier learns the one the provider returns.
inline constexpr std::string_view kNewCopy = "\x01new-copy";

/// One direction: `from`'s originals mirrored into `to`.
struct DirectionPlan {
  CalendarRef from, to;
  /// The source's organisation policies the steps were decided under (one per proven domain).
  std::vector<policy::OrgPolicy> orgs;
  std::vector<PlanStep> steps;     ///< in the order they are applied
  std::size_t liveCopies = 0;      ///< copies (resources) the pair held in `to` before the run
  std::size_t skippedCopies = 0;   ///< calgate's own copies seen in `from` (never mirrored)
  std::vector<providers::SkippedResource> skipped;  ///< resources of `from` calgate cannot take
  std::vector<std::string> readable;  ///< resources of `from` read fine or gone: no longer skipped
  bool completeListing = false;       ///< `from` was listed completely: every other skip is over
  std::vector<FailingEvent> failing;  ///< events of `from` whose copy failed before (those due are retried)
  std::shared_ptr<const std::vector<Mapping>> mappings;  ///< the direction's mappings the plan was decided from
  /// Copies of `to` the listing showed unchanged (so not read) that the plan would rewrite only
  /// because their fingerprint is of another key: read, they may be found to hold the write already.
  std::set<std::string> copiesToRead;
};

/// The mass-delete guard's verdict over a whole plan.
struct GuardVerdict {
  bool trips = false;             ///< some direction deletes more than the guard allows
  std::size_t held = 0;           ///< guarded deletions in the plan (every direction)
  std::string reason;             ///< "one pull would delete 15 of 20 copies in cal_…"
  /// One opaque id per guarded deletion (no source ids in it), sorted: what a pause stores.
  std::vector<std::string> deletionIds;
  /// SHA-256 over the guarded deletions (which copies, why): what a confirmation is bound to.
  /// Empty when the plan holds no guarded deletion.
  std::string deletionsHash;
};

struct PairPlan {
  std::string pairId;
  providers::TimeWindow window;
  bool completeListings = false;  ///< the pulls ignored the cursors (re-render or recovery)
  bool rerender = false;          ///< rules, window or policies changed since the copies were written
  double pullSeconds = 0;         ///< time the pulls and reads took
  long long pulledAt = 0;         ///< when the listings were taken (saved with the cursors)
  std::string sourceCursor, targetCursor;  ///< where the next pulls start once the plan is applied
  std::string fingerprint;        ///< rules, window and policies the copies are rendered under
  std::vector<DirectionPlan> directions;  ///< source -> target first; then target -> source (two-way)
  /// When the guard holds the plan: the same inputs planned with the guarded deletions left out
  /// (no copy taken for deleted, no source for gone), so the policy-required steps a held run
  /// applies do not rest on deletions that wait. Empty otherwise.
  std::vector<DirectionPlan> whileHeld;
  GuardVerdict guard;
  bool confirmed = false;  ///< a user confirmed exactly these guarded deletions
  /// The guard holds the plan: only policy-required steps run, the pair waits for a confirmation.
  bool held() const { return guard.trips && !confirmed; }
};

/// One applied (or previewed) step, for reports and comparisons.
struct StepSummary {
  std::string fromCalendarId;
  StepKind kind = StepKind::Unchanged;
  StepCause cause = StepCause::None;
  WriteOp op = WriteOp::None;
  std::string eventId, recurrenceId;
  bool operator==(const StepSummary&) const = default;
};

/// A step as reports and previews list it.
StepSummary summarize(const DirectionPlan& plan, const PlanStep& step);
/// The steps of `plan` that a run applies, in order (all; or, when held, the policy-required ones of whileHeld).
std::vector<StepSummary> stepsToApply(const PairPlan& plan);

std::string_view toString(StepKind k);
std::string_view toString(StepCause c);
std::string_view toString(WriteOp o);

}  // namespace calgate::sync
