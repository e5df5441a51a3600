#include "calgate/sync/sync_plan.hpp"

namespace calgate::sync {

bool PlanStep::guarded() const {
  switch (cause) {
    case StepCause::SourceDeleted:
    case StepCause::LeftWindow:
    case StepCause::SourceCancelled:
    case StepCause::SourceRejected:
      // a copy (not one occurrence of it) the source takes with it
      return kind == StepKind::Delete && op == WriteOp::Remove && (recurrenceId.empty() || standalone);
    case StepCause::UserDeleted: return kind == StepKind::KeepDeleted;
    case StepCause::None:
    case StepCause::OccurrenceCancelled:
    case StepCause::Rebuild:
    case StepCause::PolicyRequired: return false;
  }
  return false;
}

StepSummary summarize(const DirectionPlan& plan, const PlanStep& step) {
  return {plan.from.id, step.kind, step.cause, step.op, step.eventId, step.recurrenceId};
}

std::vector<StepSummary> stepsToApply(const PairPlan& plan) {
  std::vector<StepSummary> out;
  for (const auto& d : plan.held() ? plan.whileHeld : plan.directions) {
    for (const auto& s : d.steps) {
      if (!plan.held() || s.cause == StepCause::PolicyRequired) out.push_back(summarize(d, s));
    }
  }
  return out;
}

std::string_view toString(StepKind k) {
  switch (k) {
    case StepKind::Create: return "create";
    case StepKind::Update: return "update";
    case StepKind::Restore: return "restore";
    case StepKind::Delete: return "delete";
    case StepKind::Deny: return "deny";
    case StepKind::Unchanged: return "unchanged";
    case StepKind::Skipped: return "skipped";
    case StepKind::KeepDeleted: return "keep_deleted";
  }
  return "unchanged";
}

std::string_view toString(StepCause c) {
  switch (c) {
    case StepCause::None: return "none";
    case StepCause::SourceDeleted: return "source_deleted";
    case StepCause::LeftWindow: return "left_window";
    case StepCause::SourceCancelled: return "source_cancelled";
    case StepCause::UserDeleted: return "user_deleted";
    case StepCause::SourceRejected: return "source_rejected";
    case StepCause::OccurrenceCancelled: return "occurrence_cancelled";
    case StepCause::Rebuild: return "rebuild";
    case StepCause::PolicyRequired: return "policy_required";
  }
  return "none";
}

std::string_view toString(WriteOp o) {
  switch (o) {
    case WriteOp::None: return "none";
    case WriteOp::Create: return "create";
    case WriteOp::Update: return "update";
    case WriteOp::Remove: return "remove";
  }
  return "none";
}

}  // namespace calgate::sync
