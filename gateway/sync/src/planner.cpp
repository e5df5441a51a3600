#include "planner.hpp"

#include "calgate/core/hash.hpp"
#include "calgate/model/recurrence.hpp"
#include "calgate/policy/content_hash.hpp"

#include <algorithm>

namespace calgate::sync::detail {

using core::ErrorCode;
using model::Event;

namespace {

constexpr long long kDay = 86400;

/// Whether a complete listing speaks for a mapped event: a listing may be bounded by a window (a
/// CalDAV time-range query says so in completeWithin; the pair's window bounds what is mirrored
/// anyway), and an event outside it is not gone. A series counts while it started before the end.
bool listingCovers(const providers::ChangeSet& changes, const Mapping& m, long long now, int pastDays,
                   int futureDays) {
  long long from = now - pastDays * kDay;
  long long to = now + futureDays * kDay;
  if (changes.completeWithin) {
    from = std::max<long long>(from, changes.completeWithin->from.time_since_epoch().count());
    to = std::min<long long>(to, changes.completeWithin->to.time_since_epoch().count());
  }
  return m.recurring ? m.startAt < to : (m.endAt > from && m.startAt < to);
}

/// Privacy as targets can hold it (CLASS has three values): Default/Public/Normal, Personal/Private,
/// Confidential.
int privacyClass(model::Sensitivity s) {
  switch (s) {
    case model::Sensitivity::Personal:
    case model::Sensitivity::Private: return 1;
    case model::Sensitivity::Confidential: return 2;
    default: return 0;
  }
}

/// Recurrence lines in one canonical form, one value per EXDATE/RDATE line, sorted.
std::vector<std::string> canonicalLines(const std::vector<std::string>& lines) {
  auto normal = model::normaliseRecurrence(lines);
  std::vector<std::string> out;
  for (const auto& line : normal ? *normal : lines) {
    for (auto& single : model::oneValuePerLine(line)) out.push_back(std::move(single));
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Whether a copy as listed holds what `approved` would write (as far as the target can hold it).
bool sameAsWritten(const Event& listed, const Event& approved) {
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  return listed.uid == approved.uid && listed.title == approved.title && listed.description == approved.description &&
         listed.location == approved.location && listed.start == approved.start && listed.end == approved.end &&
         listed.recurrenceId == approved.recurrenceId && listed.status == approved.status &&
         listed.showAs == approved.showAs && privacyClass(listed.sensitivity) == privacyClass(approved.sensitivity) &&
         listed.origin == approved.origin && sorted(listed.attendees) == sorted(approved.attendees) &&
         canonicalLines(listed.recurrence) == canonicalLines(approved.recurrence);
}

}  // namespace

DirectionPlanner::DirectionPlanner(const PlanInput& input) : in_(input) {
  for (const auto& m : *in_.mappings) byKey_.emplace_hint(byKey_.end(), Key{m.sourceEventId, m.sourceRecurrenceId}, m);
  out_.from = in_.from;
  out_.to = in_.to;
  out_.orgs = in_.orgs;
  out_.mappings = in_.mappings;
  std::set<std::string> live;
  for (const auto& [k, m] : byKey_) {
    if (m.state == MappingState::Synced) live.insert(k.first);
  }
  out_.liveCopies = live.size();
  unreadable_.insert(in_.fromChanges->unreadable.begin(), in_.fromChanges->unreadable.end());
  // Listed at a version calgate holds and so not read: it exists, and is never taken for a deletion
  // (these are calgate's own copies, which no direction mirrors).
  for (const auto& v : in_.fromChanges->unchanged) unreadable_.insert(v.id);
  for (const auto& e : in_.toChanges->changed) listedByUid_.emplace(e.uid, &e);
  for (const auto& [id, events] : in_.verified) {
    if (!events) continue;
    for (const auto& e : *events) listedByUid_.emplace(e.uid, &e);
  }
  for (const auto& v : in_.toChanges->unchanged) {
    if (!in_.verified.count(v.id)) unreadCopies_.insert(v.id);
  }
  observeCopies();
  groupChanges();
}

bool DirectionPlanner::unreadable(const std::string& id) const {
  return unreadable_.count(id) || unreadable_.count(std::string(providers::resourceIdOf(id)));
}

Mapping* DirectionPlanner::find(const std::string& eventId, const std::string& rid) {
  auto it = byKey_.find({eventId, rid});
  return it == byKey_.end() ? nullptr : &it->second;
}

std::vector<Mapping*> DirectionPlanner::mappingsOf(const std::string& eventId) {
  std::vector<Mapping*> out;
  for (auto it = byKey_.lower_bound({eventId, ""}); it != byKey_.end() && it->first.first == eventId; ++it) {
    out.push_back(&it->second);
  }
  return out;
}

bool DirectionPlanner::seriesCopy(const std::string& eventId) {
  const Mapping* series = find(eventId, "");
  return series && series->state == MappingState::Synced && !series->targetEventId.empty();
}

// What the target listing says about the copies: changed by someone (ETag differs), or gone.
void DirectionPlanner::observeCopies() {
  std::map<std::string, std::vector<const Mapping*>> byTarget;
  for (const auto& [k, m] : byKey_) {
    if (m.state == MappingState::Synced && !m.targetEventId.empty()) byTarget[m.targetEventId].push_back(&m);
  }
  const auto& changes = *in_.toChanges;
  std::set<std::string> listed;
  // `listedId` at `etag`: a copy a user split with a "this and future" edit is listed in parts, and
  // it is the resource
  auto observe = [&](const std::string& listedId, const std::string& etag) {
    const std::string id(providers::resourceIdOf(listedId));
    listed.insert(id);
    auto it = byTarget.find(id);
    if (it == byTarget.end()) return;
    for (const Mapping* m : it->second) {
      if (!providers::sameEtag(m->targetEtag, etag) || id != listedId) touched_.insert(id);
    }
  };
  for (const auto& e : changes.changed) observe(e.id, e.etag);
  // listed at the version calgate holds, so not read: present, and untouched when it is this pair's
  for (const auto& v : changes.unchanged) observe(v.id, v.etag);
  for (const auto& removed : changes.removed) {
    const std::string id(providers::resourceIdOf(removed));
    if (byTarget.count(id)) gone_.insert(id);
  }
  // copies written after the cursor's listing that this listing left unmentioned, read one by one
  for (const auto& [id, events] : in_.verified) {
    auto it = byTarget.find(id);
    if (it == byTarget.end()) continue;
    if (!events || events->empty()) {
      gone_.insert(id);
      continue;
    }
    for (const Mapping* m : it->second) {
      if (!providers::sameEtag(m->targetEtag, events->front().etag)) touched_.insert(id);
    }
  }
  if (changes.complete) {
    std::set<std::string> unreadable(changes.unreadable.begin(), changes.unreadable.end());
    for (const auto& [id, ms] : byTarget) {
      const bool covered = std::any_of(ms.begin(), ms.end(), [&](const Mapping* m) {
        return listingCovers(changes, *m, in_.now, in_.pair->windowPastDays, in_.pair->windowFutureDays);
      });
      if (covered && !listed.count(id) && !unreadable.count(id)) gone_.insert(id);
    }
  }
  for (const auto& id : gone_) touched_.erase(id);
}

// A series is its master and its overrides: the source's changes grouped by event.
void DirectionPlanner::groupChanges() {
  for (const auto& e : in_.fromChanges->changed) {
    if (unreadable(e.id)) continue;
    auto [it, fresh] = groups_.try_emplace(e.id);
    if (fresh) order_.push_back(e.id);
    it->second.push_back(e);
  }
}

// Mapped sources a complete listing no longer shows (within what it covers).
std::set<std::string> DirectionPlanner::missing() const {
  std::set<std::string> out;
  const auto& changes = *in_.fromChanges;
  if (!changes.complete) return out;
  for (const auto& [k, m] : byKey_) {
    if (!groups_.count(k.first) && !unreadable(k.first) &&
        listingCovers(changes, m, in_.now, in_.pair->windowPastDays, in_.pair->windowFutureDays)) {
      out.insert(k.first);
    }
  }
  return out;
}

// A series we know no end of may have ended before a time-bounded listing: it is asked for.
std::set<std::string> DirectionPlanner::seriesToAsk() const {
  std::set<std::string> ask;
  if (!in_.fromChanges->completeWithin) return ask;
  for (const auto& id : missing()) {
    auto it = byKey_.find({id, ""});
    if (it != byKey_.end() && it->second.recurring) ask.insert(id);
  }
  return ask;
}

// Sources that are gone: removed since the cursor, or missing from a complete listing (except
// the series asked for).
std::set<std::string> DirectionPlanner::vanishedWithoutReads() const {
  std::set<std::string> vanished;
  // A removed resource takes all its parts; a listed one lists all its parts (provider.hpp).
  std::set<std::string_view> removed, listed;
  for (const auto& id : in_.fromChanges->removed) removed.insert(providers::resourceIdOf(id));
  for (const auto& [id, events] : groups_) listed.insert(providers::resourceIdOf(id));
  for (const auto& [k, m] : byKey_) {
    const auto resource = providers::resourceIdOf(k.first);
    if (groups_.count(k.first) || unreadable(k.first)) continue;
    if (removed.count(resource) || listed.count(resource)) vanished.insert(k.first);
  }
  const auto ask = seriesToAsk();
  for (const auto& id : missing()) {
    if (!ask.count(id)) vanished.insert(id);
  }
  return vanished;
}

// Copies to write again from their source: changed by someone, or deleted (with restore on).
std::set<std::string> DirectionPlanner::forced() const {
  std::set<std::string> force;
  for (const auto& [k, m] : byKey_) {
    if (m.state != MappingState::Synced) continue;
    if (touched_.count(m.targetEventId) || (in_.restoreDeletedCopies && gone_.count(m.targetEventId))) {
      force.insert(k.first);
    }
  }
  return force;
}

std::set<std::string> DirectionPlanner::copiesToVerify(const PlanInput& in) {
  std::set<std::string> out;
  if (in.toChanges->complete || !in.toCursorTakenAt || !in.mappings) return out;  // a complete listing speaks itself
  std::set<std::string> mentioned;
  for (const auto& e : in.toChanges->changed) mentioned.emplace(providers::resourceIdOf(e.id));
  for (const auto& id : in.toChanges->removed) mentioned.emplace(providers::resourceIdOf(id));
  for (const auto& id : in.toChanges->unreadable) mentioned.emplace(providers::resourceIdOf(id));
  for (const auto& v : in.toChanges->unchanged) mentioned.emplace(providers::resourceIdOf(v.id));
  for (const auto& m : *in.mappings) {
    if (m.state == MappingState::Synced && !m.targetEventId.empty() && m.updatedAt >= *in.toCursorTakenAt &&
        !mentioned.count(m.targetEventId)) {
      out.insert(m.targetEventId);
    }
  }
  return out;
}

bool DirectionPlanner::userDeletedCopy(const Mapping& series) const {
  return (series.state == MappingState::Deleted && !series.deletedAt) ||
         (series.state == MappingState::Synced && gone_.count(series.targetEventId));
}

// Series of which only some occurrences are listed, read whole: a change of any part brings a copy
// a user deleted back whole; a series copied as its occurrences is expanded again.
std::set<std::string> DirectionPlanner::seriesToComplete() const {
  std::set<std::string> out;
  for (const auto& [id, events] : groups_) {
    if (std::any_of(events.begin(), events.end(), [](const Event& e) { return !e.recurrenceId; })) continue;
    auto it = byKey_.find({id, ""});
    if (it != byKey_.end() && (userDeletedCopy(it->second) || expandedSeries(it->second))) out.insert(id);
  }
  return out;
}

std::set<std::string> DirectionPlanner::readsNeeded() const {
  std::set<std::string> reads = seriesToAsk();
  for (const auto& id : seriesToComplete()) reads.insert(id);
  for (const auto& id : expansionsDue()) reads.insert(id);
  const auto vanished = vanishedWithoutReads();
  for (const auto& id : forced()) {
    if (!groups_.count(id) && !vanished.count(id)) reads.insert(id);
  }
  for (const auto& id : in_.retry) {
    if (!groups_.count(id) && !vanished.count(id) && !unreadable(id)) reads.insert(id);
  }
  return reads;
}

PlanStep& DirectionPlanner::add(StepKind kind, const std::string& eventId, const std::string& rid) {
  PlanStep& s = out_.steps.emplace_back();
  s.kind = kind;
  s.eventId = eventId;
  s.recurrenceId = rid;
  return s;
}

core::Result<DirectionPlan> DirectionPlanner::plan(const SourceReads& reads) {
  const std::set<std::string> due = expansionsDue();
  std::set<std::string> vanished = vanishedWithoutReads();
  for (const auto& id : seriesToAsk()) {
    auto it = reads.find(id);
    if (it != reads.end() && !it->second) vanished.insert(id);
  }
  for (const auto& id : seriesToComplete()) {
    auto it = reads.find(id);
    if (it == reads.end()) return core::fail(ErrorCode::Internal, "the plan lacks a read it asked for");
    if (it->second) {
      groups_[id] = *it->second;
    } else {
      groups_[id].clear();
      vanished.insert(id);
    }
  }
  std::set<std::string> force;
  planFlips(force);
  for (const auto& id : forced()) force.insert(id);
  std::set<std::string> toRead = force;
  for (const auto& id : in_.retry) {
    if (!unreadable(id)) toRead.insert(id);
  }
  toRead.insert(due.begin(), due.end());
  for (const auto& id : toRead) {
    if (groups_.count(id) || vanished.count(id)) continue;
    auto it = reads.find(id);
    if (it == reads.end()) return core::fail(ErrorCode::Internal, "the plan lacks a read it asked for");
    if (!it->second) {
      vanished.insert(id);
      continue;
    }
    groups_[id] = *it->second;
    order_.push_back(id);
  }
  for (const auto& id : order_) {
    if (auto ok = planGroup(id, std::move(groups_[id]), force.count(id) > 0); !ok) return std::unexpected(ok.error());
  }
  for (const auto& id : vanished) {
    auto ok = planRemoval(id, "the source event was deleted", StepCause::SourceDeleted, MappingState::Deleted);
    if (!ok) return std::unexpected(ok.error());
  }
  planSkipped(vanished);
  return std::move(out_);
}

// Copies someone deleted in the target: kept deleted (one step per copy), or written again.
void DirectionPlanner::planFlips(std::set<std::string>& force) {
  if (in_.holdGuarded) return;  // the copies stay as they were while the guard holds their flips
  std::map<std::string, std::vector<Mapping*>> flipped;
  for (auto& [k, m] : byKey_) {
    if (m.state != MappingState::Synced || !gone_.count(m.targetEventId)) continue;
    m.state = MappingState::Deleted;  // deletedAt stays unset: the user deleted it, not the source
    if (in_.restoreDeletedCopies) {
      force.insert(k.first);  // only in the plan: a crash before the copy is back leaves the restore to do
      continue;
    }
    flipped[k.first].push_back(&m);
  }
  for (const auto& [eventId, ms] : flipped) {
    PlanStep& s = add(StepKind::KeepDeleted, eventId, "");
    s.cause = StepCause::UserDeleted;
    s.mode = policy::EffectiveMode::Full;
    s.reasons = {"the copy was deleted in the target; it stays deleted while its source is unchanged"};
    for (const Mapping* m : ms) s.records.push_back(*m);
    s.audited = std::any_of(ms.begin(), ms.end(), [](const Mapping* m) { return m->sourceRecurrenceId.empty(); });
    s.startAt = ms.front()->startAt;
    s.endAt = ms.front()->endAt;
    s.allDay = ms.front()->allDay;
    s.recurring = ms.front()->recurring;
  }
}

// Resources calgate cannot take: one step each, so preview, report, status and audit show them.
void DirectionPlanner::planSkipped(const std::set<std::string>& vanished) {
  for (const auto& r : in_.fromChanges->skipped) {
    PlanStep& s = add(StepKind::Skipped, r.id, "");
    s.reasons = {r.reason};
    out_.skipped.push_back(r);
  }
  out_.readable = order_;
  out_.readable.insert(out_.readable.end(), vanished.begin(), vanished.end());
  out_.readable.insert(out_.readable.end(), in_.fromChanges->removed.begin(), in_.fromChanges->removed.end());
  for (const auto& id : order_) out_.readable.emplace_back(providers::resourceIdOf(id));  // skips are per resource
  out_.completeListing = in_.fromChanges->complete;
}

long long DirectionPlanner::windowStart() const { return in_.now - in_.pair->windowPastDays * kDay; }
long long DirectionPlanner::windowEnd() const { return in_.now + in_.pair->windowFutureDays * kDay; }

bool DirectionPlanner::inWindow(const Event& master) const {
  const long long from = windowStart();
  const long long to = windowEnd();
  const long long start = unixOf(master.start);
  if (!master.recurrence.empty()) return start < to;  // a series may reach into the window from any start
  return unixOf(master.end) > from && start < to;
}

core::Result<void> DirectionPlanner::planGroup(const std::string& eventId, std::vector<Event> events, bool force) {
  if (events.empty()) return {};
  if (in_.oppositeCopies.count(std::string(providers::resourceIdOf(eventId))) ||
      std::any_of(events.begin(), events.end(), [](const Event& e) { return e.origin.has_value(); })) {
    ++out_.skippedCopies;  // calgate's own copy: never mirrored, so nothing loops
    return {};
  }
  std::stable_partition(events.begin(), events.end(), [](const Event& e) { return !e.recurrenceId; });
  const Event* master = events.front().recurrenceId ? nullptr : &events.front();
  const Mapping* series = find(eventId, "");
  if (master && !inWindow(*master)) {
    if (auto ok = retireStandalone(eventId); !ok) return ok;
    // Outside the window: not mirrored. A copy whose source moved out of the window goes.
    if (series && series->state == MappingState::Synced && series->sourceEtag != master->etag) {
      return planRemoval(eventId, "the source event moved outside the sync window", StepCause::LeftWindow,
                         MappingState::Deleted);
    }
    return {};
  }
  // A series the target cannot hold as a rule: copied as its occurrences instead
  if (master && expands(eventId, *master)) return planExpanded(eventId, events, force);
  // A series copy is one unit: a user deleted it, and any part of its source changed: it comes back
  // whole, the master with every current exception and cancellation.
  if (master && series && series->state == MappingState::Deleted && !series->deletedAt &&
      std::any_of(events.begin(), events.end(), [&](const Event& e) {
        const Mapping* m = find(eventId, recurrenceKey(e));
        return !m || m->sourceEtag != e.etag;
      })) {
    force = true;
  }
  if (master && series && series->state == MappingState::Synced && !series->expandedUntil) {
    auto rebuilt = withdrawsException(eventId, events);
    if (!rebuilt) return std::unexpected(rebuilt.error());
    force = force || *rebuilt;
  }
  if (master) {
    if (auto ok = retireStandalone(eventId); !ok) return ok;
  }
  // Occurrences without their series (an invitation to one occurrence): each is copied as an
  // event of its own, so the user is busy then.
  const bool orphans = !master && !series;
  if (orphans) {
    if (auto ok = retireWithdrawnOccurrences(eventId, events); !ok) return ok;
  }
  for (const auto& e : events) {
    if (auto ok = planWrite(eventId, e, force, orphans); !ok) return ok;
  }
  return {};
}

// Occurrences copied on their own that their resource no longer holds (the invitation withdrawn):
// their copies go.
core::Result<void> DirectionPlanner::retireWithdrawnOccurrences(const std::string& eventId,
                                                                 const std::vector<Event>& events) {
  std::set<std::string> current;
  for (const auto& e : events) current.insert(recurrenceKey(e));
  std::vector<std::string> rids;
  for (const Mapping* m : mappingsOf(eventId)) {
    if (m->sourceRecurrenceId.empty() || current.count(m->sourceRecurrenceId)) continue;
    if (m->state == MappingState::Synced && !m->targetEventId.empty()) rids.push_back(m->sourceRecurrenceId);
  }
  for (const auto& rid : rids) {
    auto ok = planCopyRemoval(eventId, *find(eventId, rid), "the occurrence was withdrawn from its resource",
                              StepCause::SourceDeleted, MappingState::Deleted, true);
    if (!ok) return ok;
  }
  return {};
}

// Occurrences once copied on their own whose series now arrived: their copies go, the series copy
// carries them from now on.
core::Result<void> DirectionPlanner::retireStandalone(const std::string& eventId) {
  const Mapping* series = find(eventId, "");
  std::vector<std::string> rids;
  for (const Mapping* m : mappingsOf(eventId)) {
    if (m->sourceRecurrenceId.empty() || m->state != MappingState::Synced || m->targetEventId.empty()) continue;
    if (series && series->state == MappingState::Synced && series->targetEventId == m->targetEventId) continue;
    rids.push_back(m->sourceRecurrenceId);
  }
  for (const auto& rid : rids) {
    auto ok = planCopyRemoval(eventId, *find(eventId, rid), "the occurrence now comes with its series",
                              StepCause::Rebuild, MappingState::Denied, true);
    if (!ok) return ok;
  }
  return {};
}

// An override that vanished from a series (the occurrence is back to normal) cannot be removed
// from the copy with a write of its own: the copy is rebuilt.
core::Result<bool> DirectionPlanner::withdrawsException(const std::string& eventId, const std::vector<Event>& events) {
  std::set<std::string> current;
  for (const auto& e : events) current.insert(recurrenceKey(e));
  std::vector<std::string> withdrawn;
  for (const Mapping* m : mappingsOf(eventId)) {
    // withdrawn earlier (deletedAt set, awaiting purge) does not count again
    if (!m->sourceRecurrenceId.empty() && !m->deletedAt && !current.count(m->sourceRecurrenceId)) {
      withdrawn.push_back(m->sourceRecurrenceId);
    }
  }
  if (withdrawn.empty()) return false;
  const std::size_t first = out_.steps.size();
  auto removed = planRemoval(eventId, "an exception of the series was withdrawn; the copy is rebuilt",
                             StepCause::Rebuild, MappingState::Deleted);
  if (!removed) return std::unexpected(removed.error());
  for (std::size_t i = first; i < out_.steps.size(); ++i) {
    for (auto& record : out_.steps[i].records) {
      // every exception the source no longer has (withdrawn now or earlier) is purged with the
      // other soft-deleted mappings
      if (record.sourceRecurrenceId.empty() || current.count(record.sourceRecurrenceId)) continue;
      record.deletedAt = in_.now;
      byKey_.erase({eventId, record.sourceRecurrenceId});
    }
  }
  return true;
}

Mapping DirectionPlanner::base(const std::string& eventId, const Event& event) const {
  auto it = byKey_.find({eventId, recurrenceKey(event)});
  Mapping next = it == byKey_.end() ? Mapping{} : it->second;
  next.pairId = in_.pair->id;
  next.sourceCalendarId = in_.from.id;
  next.sourceEventId = eventId;
  next.sourceRecurrenceId = recurrenceKey(event);
  next.sourceEtag = event.etag;
  next.startAt = unixOf(event.start);
  next.endAt = unixOf(event.end);
  next.allDay = event.allDay();
  next.recurring = !event.recurrence.empty();
  next.expandedUntil.reset();  // only planExpanded records a series copied as its occurrences
  return next;
}

core::Result<void> DirectionPlanner::planWrite(const std::string& eventId, const Event& event, bool force,
                                              bool standalone) {
  const std::string rid = recurrenceKey(event);
  policy::WriteContext context = writeContext(*in_.pair, in_.from, in_.to, eventId, rid);
  std::optional<Event> single;
  if (standalone && event.recurrenceId) {
    // written as an event of its own: no RECURRENCE-ID, and a UID of its own
    single = event;
    single->recurrenceId.reset();
    single->recurrence.clear();
    context.seriesKey.reset();
  }
  auto decision = evaluator_.evaluate(in_.pair->rules, in_.orgs, single ? *single : event, context);
  const Mapping* m = find(eventId, rid);
  Mapping next = base(eventId, event);
  standalone = single.has_value();
  if (!decision.write) {
    if (rid.empty() && m && m->state == MappingState::Synced && !m->targetEventId.empty()) {
      // A copy that can no longer be approved must not stay with the content it was written with.
      // Under new rules or policies that is what they require; otherwise the source changed (or
      // the zone database did), and the guard counts it like any loss the source causes.
      std::string why = "the source can no longer be approved: ";
      for (const auto& r : decision.reasons) why += r + "; ";
      return planRemoval(eventId, why.substr(0, why.size() - 2),
                         in_.rerender ? StepCause::PolicyRequired : StepCause::SourceRejected, MappingState::Denied);
    }
    if (!rid.empty() && !standalone && m && m->state == MappingState::Synced && seriesCopy(eventId)) {
      // one occurrence that can no longer be approved: cancelled in the series copy, not left as it was
      return planOccurrenceRemoval(eventId, event, std::move(next), decision.reasons);
    }
    PlanStep& s = add(StepKind::Deny, eventId, rid);
    s.mode = decision.mode;
    s.reasons = std::move(decision.reasons);
    // (an occurrence keeps a copy it is part of; a series copied as its occurrences has none of its own)
    next.state = m && m->state == MappingState::Synced && !m->targetEventId.empty() ? MappingState::Synced
                                                                                     : MappingState::Denied;
    if (!(m && m->state == MappingState::Denied && m->sourceEtag == event.etag)) {
      s.records = {next};
      s.audited = true;
      byKey_[{eventId, rid}] = next;
    }
    s.startAt = next.startAt, s.endAt = next.endAt, s.allDay = next.allDay, s.recurring = next.recurring;
    return {};
  }
  if (decision.write->action() == policy::ApprovedWrite::Action::Delete) {
    planDeletion(eventId, event, decision, std::move(next), standalone, force);
    return {};
  }
  if (rid.empty() && !standalone && m && m->state == MappingState::Synced && !m->targetEventId.empty() &&
      in_.replacesOnUpdate && !in_.hasher->matches(m->contentSha256, *decision.write) &&
      in_.replacesOnUpdate(m->targetEventId, *decision.write)) {
    // the target cannot turn the copy into this in place (Google: an event's type): a new copy
    auto removed = planRemoval(eventId, "the copy cannot change into this kind of event in place: it is written anew",
                               StepCause::Rebuild, MappingState::Deleted);
    if (!removed) return removed;
    force = true;
  }
  planUpsert(eventId, event, std::move(decision), std::move(next), force, standalone);
  return {};
}

// An occurrence whose copy is part of a series copy and can no longer be approved: cancelled there
// through the evaluator's approval for a cancelled stand-in.
core::Result<void> DirectionPlanner::planOccurrenceRemoval(const std::string& eventId, const Event& event, Mapping next,
                                                           const std::vector<std::string>& why) {
  Event gone;
  gone.id = eventId;
  gone.status = model::Status::Cancelled;
  gone.recurrenceId = event.recurrenceId;
  gone.start = model::ZonedTime{std::chrono::sys_seconds(std::chrono::seconds(next.startAt)), "UTC"};
  gone.end = model::ZonedTime{std::chrono::sys_seconds(std::chrono::seconds(next.endAt)), "UTC"};
  const std::string rid = next.sourceRecurrenceId;
  auto decision = evaluator_.evaluate(in_.pair->rules, in_.orgs, gone, writeContext(*in_.pair, in_.from, in_.to, eventId, rid));
  if (!decision.write || decision.write->action() != policy::ApprovedWrite::Action::Delete) {
    return core::fail(ErrorCode::Internal, "the evaluator did not approve cancelling an occurrence");
  }
  PlanStep& s = add(StepKind::Delete, eventId, rid);
  s.cause = in_.rerender ? StepCause::PolicyRequired : StepCause::SourceRejected;
  s.op = WriteOp::Remove;
  s.write = std::move(*decision.write);
  s.mode = decision.mode;
  s.reasons = {"the occurrence can no longer be approved: it is cancelled in the copy"};
  s.reasons.insert(s.reasons.end(), why.begin(), why.end());
  s.audited = true;
  s.startAt = next.startAt, s.endAt = next.endAt, s.allDay = next.allDay, s.recurring = next.recurring;
  next.state = MappingState::Denied;
  next.contentSha256.clear();
  s.records = {next};
  byKey_[{eventId, rid}] = next;
  return {};
}

// The evaluator approved a Delete: the source (or one occurrence) was cancelled, or the
// organisation now blocks the target.
void DirectionPlanner::planDeletion(const std::string& eventId, const Event& event, const policy::Decision& decision,
                                    Mapping next, bool standalone, bool force) {
  const std::string rid = next.sourceRecurrenceId;
  const Mapping* m = find(eventId, rid);
  const std::string hash = in_.hasher->of(*decision.write);
  // done before, unless the copy is written anew (restored or recreated whole): then again
  if (!force && m && m->state == MappingState::Deleted && in_.hasher->matches(m->contentSha256, *decision.write)) return;
  const bool whole = rid.empty() || standalone;  // the copy is a resource of its own
  const bool copy = whole ? (m && m->state == MappingState::Synced && !m->targetEventId.empty()) : seriesCopy(eventId);
  const StepCause cause = decision.mode == policy::EffectiveMode::Denied ? StepCause::PolicyRequired
                          : whole                                         ? StepCause::SourceCancelled
                                                                          : StepCause::OccurrenceCancelled;
  if (in_.holdGuarded && copy && cause == StepCause::SourceCancelled) return;  // held: the copy stays
  PlanStep& s = add(StepKind::Delete, eventId, rid);
  s.standalone = standalone;
  s.cause = cause;
  s.op = copy ? WriteOp::Remove : WriteOp::None;
  s.write = *decision.write;
  s.mode = decision.mode;
  s.reasons = decision.reasons;
  next.state = MappingState::Deleted;
  next.contentSha256 = hash;
  next.targetEventId = whole ? (m ? m->targetEventId : "") : (copy ? find(eventId, "")->targetEventId : "");
  next.deletedAt.reset();
  s.records = {next};
  s.audited = copy;
  s.startAt = next.startAt, s.endAt = next.endAt, s.allDay = next.allDay, s.recurring = next.recurring;
  byKey_[{eventId, rid}] = next;
  (void)event;
}

void DirectionPlanner::planUpsert(const std::string& eventId, const Event& event, policy::Decision decision,
                                  Mapping next, bool force, bool standalone) {
  const std::string rid = next.sourceRecurrenceId;
  const Mapping* m = find(eventId, rid);
  const std::string hash = in_.hasher->of(*decision.write);
  const bool same = m && in_.hasher->matches(m->contentSha256, *decision.write);
  const bool userDeleted = m && m->state == MappingState::Deleted && !m->deletedAt;
  auto finish = [&](PlanStep& s) {
    s.mode = decision.mode;
    s.reasons = std::move(decision.reasons);
    s.startAt = next.startAt, s.endAt = next.endAt, s.allDay = next.allDay, s.recurring = next.recurring;
  };
  if (!force && same && (m->state == MappingState::Synced || (userDeleted && !in_.restoreDeletedCopies))) {
    // the decision is audited (with the evaluator's reasons) when the source was seen to change
    PlanStep& s = add(userDeleted ? StepKind::KeepDeleted : StepKind::Unchanged, eventId, rid);
    if (m->sourceEtag != event.etag) s.records = {next}, s.audited = true, byKey_[{eventId, rid}] = next;
    if (!in_.hasher->current(m->contentSha256)) {
      // an unkeyed fingerprint of an unchanged copy: re-recorded keyed, nothing written
      next.contentSha256 = hash;
      s.records = {next}, byKey_[{eventId, rid}] = next;
    }
    s.write = std::move(*decision.write);  // what the copy holds: shown by the preview, not written
    return finish(s);
  }
  if (!rid.empty() && !standalone && !seriesCopy(eventId)) {
    // the series itself is not mirrored (denied, outside the window): nothing to attach this to
    PlanStep& s = add(StepKind::Deny, eventId, rid);
    finish(s);
    s.reasons = {"the series of this occurrence is not mirrored"};
    next.state = MappingState::Denied;
    if (!(m && m->state == MappingState::Denied && m->sourceEtag == event.etag)) {
      s.records = {next}, s.audited = true, byKey_[{eventId, rid}] = next;
    }
    return;
  }
  if (recognised(eventId, next, *decision.write, hash)) return finish(out_.steps.back());
  const bool whole = rid.empty() || standalone;  // the copy is a resource of its own
  const bool exists = whole ? (m && m->state == MappingState::Synced && !m->targetEventId.empty()) : true;
  // an unchanged copy not read (its fingerprint is of another key, or the copy is re-rendered):
  // reading it may find it holds this write already
  if (exists && m && unreadCopies_.count(m->targetEventId)) out_.copiesToRead.insert(m->targetEventId);
  const bool restoring = force && same;
  PlanStep& s = add(restoring ? StepKind::Restore : exists ? StepKind::Update : StepKind::Create, eventId, rid);
  s.standalone = standalone;
  s.op = exists ? WriteOp::Update : WriteOp::Create;
  // a copy re-rendered under new rules or policies: the old content must not wait for a confirmation
  if (exists && in_.rerender && !restoring) s.cause = StepCause::PolicyRequired;
  s.write = std::move(*decision.write);
  next.state = MappingState::Synced;
  next.contentSha256 = hash;
  next.targetEventId = std::string(kNewCopy);  // the applier writes the id the provider returns
  next.targetEtag.clear();
  next.deletedAt.reset();
  s.records = {next};
  s.audited = true;
  byKey_[{eventId, rid}] = next;
  finish(s);
}

// The target already holds exactly what calgate means to write (its own write, made before a
// crash kept it from recording it, or the ETag changed form): nothing is written; the mapping
// learns the copy and its ETag as listed.
bool DirectionPlanner::recognised(const std::string& eventId, Mapping next, const policy::ApprovedWrite& write,
                                  const std::string& hash) {
  const Event& approved = write.event();
  const Event* listed = nullptr;
  for (auto [it, end] = listedByUid_.equal_range(approved.uid); it != end; ++it) {
    if (it->second->recurrenceId == approved.recurrenceId) listed = it->second;
  }
  // only a copy listed whole (not one a user split) as calgate wrote it
  if (!listed || providers::resourceIdOf(listed->id) != listed->id || gone_.count(listed->id) ||
      removed_.count(listed->id) || !sameAsWritten(*listed, approved)) {
    return false;
  }
  PlanStep& s = add(StepKind::Unchanged, eventId, next.sourceRecurrenceId);
  s.write = write;
  s.etagFromListing = true;
  // audited: it may be a write whose record (and audit entry) a crash lost
  s.audited = true;
  s.reasons.push_back("the target holds this copy exactly as calgate writes it: recorded without a write");
  next.state = MappingState::Synced;
  next.contentSha256 = hash;
  next.targetEventId = listed->id;
  next.targetEtag = listed->etag;
  next.deletedAt.reset();
  s.records = {next};
  byKey_[{eventId, next.sourceRecurrenceId}] = next;
  return true;
}

// Removes the copies of an event (its series copy, and each occurrence copied on its own) with the
// evaluator's approval for a cancelled stand-in; the mappings end in `after` (Deleted: deletedAt
// set when the source went).
core::Result<void> DirectionPlanner::planRemoval(const std::string& eventId, const std::string& why, StepCause cause,
                                                 MappingState after) {
  auto parts = mappingsOf(eventId);
  if (parts.empty()) return {};
  std::vector<const Mapping*> lives;  // one per copy resource; parts come series first
  for (const Mapping* m : parts) {
    if (m->state != MappingState::Synced || m->targetEventId.empty()) continue;
    if (std::none_of(lives.begin(), lives.end(), [&](const Mapping* l) { return l->targetEventId == m->targetEventId; })) {
      lives.push_back(m);
    }
  }
  if (lives.empty()) {
    // nothing to remove: the mappings retire
    PlanStep& s = add(StepKind::Delete, eventId, "");
    s.cause = cause;
    s.reasons = {why};
    s.startAt = parts.front()->startAt, s.endAt = parts.front()->endAt, s.allDay = parts.front()->allDay;
    s.recurring = parts.front()->recurring;
    for (Mapping* m : parts) s.records.push_back(retire(*m, cause, after));
    return {};
  }
  // mappings of no copy (denied or deleted parts, a series copied as its occurrences), taken before
  // the removals retire the others: each copy's mappings go with its own removal, not before it
  std::vector<Mapping*> idle;
  for (Mapping* m : parts) {
    if (m->state != MappingState::Synced || m->targetEventId.empty()) idle.push_back(m);
  }
  const std::size_t first = out_.steps.size();
  for (const Mapping* live : lives) {
    const bool standalone = !live->sourceRecurrenceId.empty();
    if (auto ok = planCopyRemoval(eventId, *live, why, cause, after, standalone); !ok) return ok;
  }
  // they retire with the first removal (none when held)
  if (out_.steps.size() > first) {
    for (Mapping* m : idle) out_.steps[first].records.push_back(retire(*m, cause, after));
  }
  return {};
}

Mapping DirectionPlanner::retire(Mapping& m, StepCause cause, MappingState after) const {
  m.state = after;
  m.contentSha256.clear();
  m.targetEtag.clear();
  if (after == MappingState::Denied) m.targetEventId.clear();
  m.expandedUntil.reset();
  m.deletedAt = cause == StepCause::SourceDeleted ? std::optional<long long>(in_.now) : std::nullopt;
  return m;
}

// One copy resource goes: the series copy (or a whole event's), or an occurrence copied on its own.
core::Result<void> DirectionPlanner::planCopyRemoval(const std::string& eventId, const Mapping& live,
                                                     const std::string& why, StepCause cause, MappingState after,
                                                     bool standalone) {
  Event gone;
  gone.id = eventId;
  gone.status = model::Status::Cancelled;
  gone.start = model::ZonedTime{std::chrono::sys_seconds(std::chrono::seconds(live.startAt)), "UTC"};
  gone.end = model::ZonedTime{std::chrono::sys_seconds(std::chrono::seconds(live.endAt)), "UTC"};
  policy::WriteContext context =
      writeContext(*in_.pair, in_.from, in_.to, eventId, standalone ? live.sourceRecurrenceId : "");
  context.seriesKey.reset();  // the stand-in is the resource as a whole: it carries the copy's own UID
  auto decision = evaluator_.evaluate(in_.pair->rules, in_.orgs, gone, context);
  if (!decision.write || decision.write->action() != policy::ApprovedWrite::Action::Delete) {
    return core::fail(ErrorCode::Internal, "the evaluator did not approve removing a copy");
  }
  PlanStep s;
  s.kind = StepKind::Delete;
  s.eventId = eventId;
  s.recurrenceId = standalone ? live.sourceRecurrenceId : "";
  s.standalone = standalone;
  s.op = WriteOp::Remove;
  s.write = std::move(*decision.write);
  s.mode = decision.mode;
  // the organisation blocks the target now: every copy goes, whatever else happened to its source
  s.cause = decision.mode == policy::EffectiveMode::Denied ? StepCause::PolicyRequired : cause;
  s.reasons = {why};
  s.audited = true;
  s.startAt = live.startAt, s.endAt = live.endAt, s.allDay = live.allDay, s.recurring = live.recurring;
  if (in_.holdGuarded && s.guarded()) return {};  // held: the copy and its mappings stay as they are
  const std::string target = live.targetEventId;
  removed_.insert(target);  // removed by this plan: not a copy to recognise any more
  for (Mapping* m : mappingsOf(eventId)) {
    if (m->state == MappingState::Synced && m->targetEventId == target) s.records.push_back(retire(*m, cause, after));
  }
  out_.steps.push_back(std::move(s));
  return {};
}

GuardVerdict judge(const std::vector<DirectionPlan>& directions, const std::string& pairId, double share,
                   std::size_t minimum) {
  GuardVerdict v;
  for (const auto& d : directions) {
    std::set<std::string> doomed;
    for (const auto& s : d.steps) {
      if (!s.guarded() || !doomed.insert(s.eventId).second) continue;
      v.deletionIds.push_back(core::sha256Hex(pairId + "\n" + d.from.id + "\n" + s.eventId + "\n" +
                                              std::string(toString(s.cause)))
                                  .substr(0, 32));
    }
    if (doomed.size() >= minimum && static_cast<double>(doomed.size()) > share * static_cast<double>(d.liveCopies)) {
      if (!v.reason.empty()) v.reason += "; ";
      v.reason += "one pull would delete " + std::to_string(doomed.size()) + " of " + std::to_string(d.liveCopies) +
                  " copies in " + d.to.id;
      v.trips = true;
    }
  }
  std::sort(v.deletionIds.begin(), v.deletionIds.end());
  v.held = v.deletionIds.size();
  v.deletionsHash = deletionsDigest(v.deletionIds);
  return v;
}

bool covers(const std::vector<std::string>& confirmed, const std::vector<std::string>& held) {
  std::set<std::string> ok(confirmed.begin(), confirmed.end());
  return !held.empty() && std::all_of(held.begin(), held.end(), [&](const std::string& id) { return ok.count(id); });
}

}  // namespace calgate::sync::detail
