#pragma once
// The apply step of a run: a direction's planned steps, in order, as write -> record -> audit.
// Each step's provider write comes first; its mappings and audit entry are then saved in one
// commit, so a crash between the two leaves a write the next run's plan finds again (the copy's
// deterministic UID makes a repeated create an update). Failpoints at every boundary
// ("before_write", "after_write", "after_record") let tests crash there.
// Not thread-safe; one applier per direction and run.

#include "calgate/core/error.hpp"
#include "calgate/sync/mapping_store.hpp"
#include "calgate/sync/pair_store.hpp"
#include "calgate/sync/failure_store.hpp"
#include "calgate/sync/skip_store.hpp"
#include "calgate/sync/sync_engine.hpp"
#include "calgate/sync/sync_plan.hpp"

namespace calgate::sync::detail {

struct ApplyContext {
  MappingStore& mappings;
  SkipStore& skips;
  FailureStore& failures;
  const SyncPair& pair;
  const SyncOptions& options;
  const WriteObserver& observer;
  const RunFence& fence;  ///< asked before every provider write
};

/// After a direction's steps: the failing events written (or removed) fine this run are failing no more.
core::Result<void> settleFailures(const ApplyContext& context, const DirectionPlan& plan, const SyncReport& report);

/// Whether an error of one step concerns only that event.
bool refusedForEvent(const core::Error& error);

/// After a direction's steps were all applied: the resources read fine (or gone) are no longer
/// skipped; after a complete listing, neither is any resource the listing did not skip.
core::Result<void> settleSkipped(const ApplyContext& context, const DirectionPlan& plan);

/// Applies `plan`'s steps to `to` (only the policy-required ones when `policyOnly`), counting
/// them in `report` and appending each to report.steps. A step the target refuses for that event
/// (core::Cause::WriteRefused, or an Invalid / Conflict / PreconditionFailed / NotFound / Gone
/// answer) marks the event failing (FailureStore, audited, logged; its other steps are left for
/// the next try) and the run goes on; any other error stops it there.
core::Result<void> applyDirection(const ApplyContext& context, const DirectionPlan& plan, providers::Provider& to,
                                  bool policyOnly, SyncReport& report);

}  // namespace calgate::sync::detail
