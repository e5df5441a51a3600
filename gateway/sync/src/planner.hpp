#pragma once
// The planning step of a run (sync_plan.hpp), one direction at a time, and the mass-delete guard.
// Pure: no store, no provider, no clock. The engine gathers the inputs (mappings, pulls, reads)
// and hands the plan to the applier. Not thread-safe (one planner per direction and run).

#include "calgate/core/error.hpp"
#include "calgate/sync/pair_store.hpp"
#include "calgate/sync/sync_engine.hpp"
#include "calgate/policy/content_hash.hpp"
#include "calgate/sync/sync_plan.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace calgate::sync::detail {

struct PlanInput {
  const SyncPair* pair = nullptr;
  CalendarRef from, to;
  const providers::ChangeSet* fromChanges = nullptr;
  const providers::ChangeSet* toChanges = nullptr;
  std::shared_ptr<const std::vector<Mapping>> mappings;  ///< this direction's (source calendar = from)
  std::set<std::string> oppositeCopies;   ///< ids in `from` of the other direction's copies
  std::vector<policy::OrgPolicy> orgs;    ///< the source's organisation policies (strictest applies)
  long long now = 0;
  bool restoreDeletedCopies = false;
  /// Fingerprints of what copies hold (keyed when the vault gave a key); never null.
  std::shared_ptr<const policy::ContentHasher> hasher = std::make_shared<const policy::ContentHasher>();
  /// The copies are re-rendered (rules, window or policies changed): rewriting a copy is what the
  /// new policy requires, and so is removing one that can no longer be approved.
  bool rerender = false;
  /// When the listing `to`'s cursor continues from was taken (none: no cursor yet).
  std::optional<long long> toCursorTakenAt;
  /// Copies of `to` written after that listing which this incremental listing does not mention
  /// (copiesToVerify), as read now: nullopt when gone. A server may omit a copy created and deleted
  /// after its token (RFC 6578 permits it): this is how such a deletion is noticed.
  std::map<std::string, std::optional<std::vector<model::Event>>> verified;
  /// Source events whose copy failed before and are due for another try: read and planned again
  /// even when the listing does not mention them.
  std::set<std::string> retry;
  /// Plan as if the guarded deletions were not there (the guard holds them): no flips, no
  /// source-caused removals, and every later step decided on the state they leave untouched.
  bool holdGuarded = false;
  /// The target's Provider::replacesOnUpdate for its calendar: an update of a copy it answers true
  /// for is planned as the copy's removal and a new copy (cause Rebuild). Unset: never.
  std::function<bool(const std::string& copyId, const policy::ApprovedWrite& write)> replacesOnUpdate;
  /// The target's Provider::holdsSeries for its calendar: a series it answers false for is copied
  /// as its occurrences inside the window, each an event of its own (planExpanded). Unset: every
  /// series is written as a series.
  std::function<bool(const policy::ApprovedWrite& write)> holdsSeries;
};

/// What the engine read from the source for the planner: event id -> its resource now (nullopt:
/// the server says it no longer exists).
using SourceReads = std::map<std::string, std::optional<std::vector<model::Event>>>;

class DirectionPlanner {
 public:
  /// `input` must outlive the planner.
  explicit DirectionPlanner(const PlanInput& input);
  /// The copies to read from the target before planning (PlanInput::verified).
  static std::set<std::string> copiesToVerify(const PlanInput& input);
  /// Source events the plan must read before it can decide (series a time-bounded listing may
  /// have missed; sources of copies to restore that did not change).
  std::set<std::string> readsNeeded() const;
  /// The steps. Internal when the evaluator refuses to approve a removal (a broken invariant).
  core::Result<DirectionPlan> plan(const SourceReads& reads);

 private:
  using Key = std::pair<std::string, std::string>;  // source event id, recurrence key

  void observeCopies();
  void groupChanges();
  std::set<std::string> missing() const;
  std::set<std::string> vanishedWithoutReads() const;
  std::set<std::string> seriesToAsk() const;
  std::set<std::string> forced() const;
  std::set<std::string> seriesToComplete() const;
  bool userDeletedCopy(const Mapping& series) const;
  /// A series copied as its occurrences (Mapping::expandedUntil).
  static bool expandedSeries(const Mapping& series) {
    return series.state == MappingState::Synced && series.expandedUntil.has_value();
  }
  void planFlips(std::set<std::string>& force);
  void planSkipped(const std::set<std::string>& vanished);
  core::Result<void> planGroup(const std::string& eventId, std::vector<model::Event> events, bool force);
  core::Result<void> planWrite(const std::string& eventId, const model::Event& event, bool force, bool standalone);
  void planDeletion(const std::string& eventId, const model::Event& event, const policy::Decision& decision,
                    Mapping next, bool standalone, bool force);
  void planUpsert(const std::string& eventId, const model::Event& event, policy::Decision decision, Mapping next,
                  bool force, bool standalone);
  core::Result<void> planRemoval(const std::string& eventId, const std::string& why, StepCause cause,
                                 MappingState after);
  core::Result<void> planCopyRemoval(const std::string& eventId, const Mapping& live, const std::string& why,
                                     StepCause cause, MappingState after, bool standalone);
  core::Result<void> retireStandalone(const std::string& eventId);
  bool expands(const std::string& eventId, const model::Event& master);
  core::Result<void> planExpanded(const std::string& eventId, const std::vector<model::Event>& events, bool force);
  core::Result<void> refuseExpansion(const std::string& eventId, const model::Event& master, const std::string& why);
  core::Result<void> retireUnproduced(const std::string& eventId, const std::set<std::string>& produced);
  void recordExpansion(const std::string& eventId, const model::Event& master);
  std::set<std::string> expansionsDue() const;
  long long windowStart() const;
  long long windowEnd() const;
  core::Result<void> planOccurrenceRemoval(const std::string& eventId, const model::Event& event, Mapping next,
                                           const std::vector<std::string>& why);
  core::Result<void> retireWithdrawnOccurrences(const std::string& eventId, const std::vector<model::Event>& events);
  bool recognised(const std::string& eventId, Mapping next, const policy::ApprovedWrite& write, const std::string& hash);
  Mapping retire(Mapping& m, StepCause cause, MappingState after) const;
  core::Result<bool> withdrawsException(const std::string& eventId, const std::vector<model::Event>& events);
  PlanStep& add(StepKind kind, const std::string& eventId, const std::string& rid);
  Mapping base(const std::string& eventId, const model::Event& event) const;
  bool inWindow(const model::Event& master) const;
  bool unreadable(const std::string& id) const;
  bool seriesCopy(const std::string& eventId);
  Mapping* find(const std::string& eventId, const std::string& rid);
  std::vector<Mapping*> mappingsOf(const std::string& eventId);

  const PlanInput& in_;
  policy::Evaluator evaluator_;
  std::map<Key, Mapping> byKey_;  // the mappings as the steps so far leave them
  std::set<std::string> touched_, gone_, unreadable_;
  std::vector<std::string> order_;
  std::map<std::string, std::vector<model::Event>> groups_;
  std::multimap<std::string, const model::Event*> listedByUid_;  // the target's listed events by UID
  std::set<std::string> removed_;  // copies this plan removes
  std::set<std::string> unreadCopies_;  // listed at the version calgate recorded, so not read
  DirectionPlan out_;
};

/// The guard over every direction of a plan: trips when a direction's guarded deletions reach
/// `minimum` and exceed `share` of its live copies.
GuardVerdict judge(const std::vector<DirectionPlan>& directions, const std::string& pairId, double share,
                   std::size_t minimum);

/// Whether `held` (a plan's guarded deletion ids) is covered by a confirmation of `confirmed`.
bool covers(const std::vector<std::string>& confirmed, const std::vector<std::string>& held);

}  // namespace calgate::sync::detail
