// Series a target cannot hold as a rule (Provider::holdsSeries: Outlook has no pattern for a
// monthly day 31, RDATEs, several RRULEs…), copied as their occurrences inside the pair's window,
// each an event of its own, instead of a rule that is almost the same. The series' own mapping
// names no copy and records the end of the window it was expanded over (Mapping::expandedUntil):
// once the window has moved a day, the series is read again and the occurrences entering it are
// copied. Occurrences the series no longer produces go; those that merely aged out of the window
// stay, as any past event's copy does. A rule that becomes exact turns back into a series copy
// (retireStandalone), and one that stops being exact removes its series copy first.
#include "planner.hpp"

#include "calgate/model/occurrences.hpp"

#include <algorithm>

namespace calgate::sync::detail {

using model::Event;

namespace {

constexpr long long kDay = 86400;
/// Occurrences one series may put into the target as events of their own.
constexpr std::size_t kMaxExpanded = 1000;
/// Occurrences the rules may generate while looking for those in the window (from the series'
/// first one): beyond it the series is refused rather than copied in part.
constexpr std::size_t kMaxGenerated = 100000;

std::chrono::sys_seconds at(long long unix) { return std::chrono::sys_seconds(std::chrono::seconds(unix)); }

}  // namespace

bool DirectionPlanner::expands(const std::string& eventId, const Event& master) {
  if (!in_.holdsSeries || master.recurrence.empty() || master.status == model::Status::Cancelled) return false;
  auto decision = evaluator_.evaluate(in_.pair->rules, in_.orgs, master, writeContext(*in_.pair, in_.from, in_.to, eventId, ""));
  return decision.write && decision.write->action() == policy::ApprovedWrite::Action::Upsert &&
         !in_.holdsSeries(*decision.write);
}

// Series copied as their occurrences whose window has moved a day since: read again even though
// the source did not change, so the occurrences entering the window are copied.
std::set<std::string> DirectionPlanner::expansionsDue() const {
  std::set<std::string> out;
  const long long until = windowEnd();
  for (const auto& [k, m] : byKey_) {
    if (!k.second.empty() || !expandedSeries(m) || *m.expandedUntil + kDay > until) continue;
    if (!groups_.count(k.first) && !unreadable(k.first)) out.insert(k.first);
  }
  if (out.empty()) return out;
  for (const auto& id : vanishedWithoutReads()) out.erase(id);
  return out;
}

core::Result<void> DirectionPlanner::planExpanded(const std::string& eventId, const std::vector<Event>& events, bool force) {
  auto occurrences = model::expandOccurrences(events, at(windowStart()), at(windowEnd()), "UTC", {kMaxGenerated, true});
  if (!occurrences) return refuseExpansion(eventId, events.front(), occurrences.error().message);
  if (occurrences->size() > kMaxExpanded) {
    return refuseExpansion(eventId, events.front(),
                           "it has more than " + std::to_string(kMaxExpanded) + " occurrences in the sync window");
  }
  // the series copy of an earlier rule the target could hold goes: it would double every occurrence
  const bool rebuilt = seriesCopy(eventId);
  if (rebuilt) {
    auto removed = planRemoval(eventId, "the target cannot hold the series' new rule exactly: its occurrences are copied one by one",
                               StepCause::Rebuild, MappingState::Deleted);
    if (!removed) return removed;
  }
  std::set<std::string> produced;
  for (const auto& o : *occurrences) {
    Event one = *o.event;
    one.start = o.start;
    one.end = o.end;
    one.recurrenceId = o.recurrenceId;
    one.recurrence.clear();
    const std::string rid = recurrenceKey(one);
    if (!produced.insert(rid).second) continue;
    // forced (a user changed or deleted copies of the series) only where this occurrence's copy is concerned
    const Mapping* m = find(eventId, rid);
    const bool mine = rebuilt || (force && (!m || m->state != MappingState::Synced || touched_.count(m->targetEventId)));
    if (auto ok = planWrite(eventId, one, mine, true); !ok) return ok;
  }
  if (auto ok = retireUnproduced(eventId, produced); !ok) return ok;
  recordExpansion(eventId, events.front());
  return {};
}

// Copies of occurrences the series no longer produces inside the window (an EXDATE, a changed
// rule, an exception moved out): they go. A copy whose occurrence ended before the window stays.
core::Result<void> DirectionPlanner::retireUnproduced(const std::string& eventId, const std::set<std::string>& produced) {
  std::vector<std::string> rids;
  for (const Mapping* m : mappingsOf(eventId)) {
    if (m->sourceRecurrenceId.empty() || produced.count(m->sourceRecurrenceId)) continue;
    if (m->state != MappingState::Synced || m->targetEventId.empty() || m->endAt <= windowStart()) continue;
    rids.push_back(m->sourceRecurrenceId);
  }
  for (const auto& rid : rids) {
    auto ok = planCopyRemoval(eventId, *find(eventId, rid), "the occurrence is no longer part of its series",
                              StepCause::SourceDeleted, MappingState::Deleted, true);
    if (!ok) return ok;
  }
  return {};
}

// The series' own mapping, after its occurrences' steps (a run that stops before them leaves it
// as it was, so the series is expanded again): recorded when the source changed or the window moved.
void DirectionPlanner::recordExpansion(const std::string& eventId, const Event& master) {
  const Mapping* m = find(eventId, "");
  Mapping next = base(eventId, master);
  next.state = MappingState::Synced;
  next.targetEventId.clear();
  next.targetEtag.clear();
  next.contentSha256.clear();
  next.deletedAt.reset();
  next.expandedUntil = windowEnd();
  if (m && expandedSeries(*m) && m->sourceEtag == next.sourceEtag && *m->expandedUntil + kDay > windowEnd()) return;
  PlanStep& s = add(StepKind::Unchanged, eventId, "");
  s.reasons = {"the target cannot hold the series' rule exactly: its occurrences in the sync window are copied one by one"};
  s.mode = policy::EffectiveMode::Full;
  s.startAt = next.startAt, s.endAt = next.endAt, s.allDay = next.allDay, s.recurring = true;
  s.records = {next};
  byKey_[{eventId, ""}] = next;
}

// A series the target cannot hold as a rule that is too big (or too broken) to copy as its
// occurrences: no copy, with the reason; copies it had go.
core::Result<void> DirectionPlanner::refuseExpansion(const std::string& eventId, const Event& master, const std::string& why) {
  const std::string reason = "the target cannot hold the series' rule exactly, and it is not copied as single events: " + why;
  auto parts = mappingsOf(eventId);
  if (std::any_of(parts.begin(), parts.end(), [](const Mapping* m) {
        return m->state == MappingState::Synced && !m->targetEventId.empty();
      })) {
    return planRemoval(eventId, reason, StepCause::SourceRejected, MappingState::Denied);
  }
  const Mapping* m = find(eventId, "");
  PlanStep& s = add(StepKind::Deny, eventId, "");
  s.mode = policy::EffectiveMode::Denied;
  s.reasons = {reason};
  Mapping next = base(eventId, master);
  next.state = MappingState::Denied;
  next.targetEventId.clear();
  s.startAt = next.startAt, s.endAt = next.endAt, s.allDay = next.allDay, s.recurring = true;
  if (!(m && m->state == MappingState::Denied && m->sourceEtag == master.etag)) {
    s.records = {next};
    s.audited = true;
    byKey_[{eventId, ""}] = next;
  }
  return {};
}

}  // namespace calgate::sync::detail
