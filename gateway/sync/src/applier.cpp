#include "applier.hpp"

#include "calgate/audit/audit_log.hpp"
#include "calgate/core/log.hpp"
#include "calgate/policy/evaluator.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string_view>
#include <utility>

namespace calgate::sync::detail {

namespace {

/// The audit action and decision of a step; empty action: not audited.
std::pair<std::string, std::string> auditNames(const PlanStep& s) {
  switch (s.kind) {
    case StepKind::Create: return {"sync.write", "create"};
    case StepKind::Update: return {"sync.write", "update"};
    case StepKind::Restore: return {"sync.write", "restore"};
    case StepKind::Delete: return {"sync.delete", "delete"};
    case StepKind::Deny: return {"sync.deny", "denied"};
    case StepKind::Unchanged: return {"sync.skip", "unchanged"};
    case StepKind::Skipped: return {"sync.skip_resource", "skipped"};
    case StepKind::KeepDeleted:
      return {s.cause == StepCause::UserDeleted ? "sync.respect_deletion" : "sync.skip", "kept_deleted"};
  }
  return {};
}

std::string_view observedAction(WriteOp op) {
  switch (op) {
    case WriteOp::Create: return "create";
    case WriteOp::Update: return "update";
    case WriteOp::Remove: return "delete";
    case WriteOp::None: break;
  }
  return "";
}

/// The direction's mappings as the applied steps leave them. An event's mappings are copied out
/// of the plan's (shared, unchanged) list the first time a step touches it, so a run that
/// writes a few copies of a large calendar copies a few mappings, not all of them.
class LiveMappings {
 public:
  using Key = std::pair<std::string, std::string>;
  explicit LiveMappings(const std::vector<Mapping>& initial) {
    sorted_.reserve(initial.size());
    for (const auto& m : initial) sorted_.push_back(&m);
    std::sort(sorted_.begin(), sorted_.end(), [](const Mapping* a, const Mapping* b) { return keyOf(*a) < keyOf(*b); });
  }
  /// Every mapping of `eventId`, ordered by occurrence ("" -- the series -- first).
  std::vector<Mapping*> of(const std::string& eventId) {
    load(eventId);
    std::vector<Mapping*> out;
    for (auto it = overlay_.lower_bound({eventId, ""}); it != overlay_.end() && it->first.first == eventId; ++it) {
      out.push_back(&it->second);
    }
    return out;
  }
  const Mapping* find(const std::string& eventId, const std::string& rid) {
    load(eventId);
    auto it = overlay_.find({eventId, rid});
    return it == overlay_.end() ? nullptr : &it->second;
  }
  void put(Mapping m) {
    load(m.sourceEventId);
    Key key{m.sourceEventId, m.sourceRecurrenceId};
    overlay_[std::move(key)] = std::move(m);
  }

 private:
  static std::pair<std::string_view, std::string_view> keyOf(const Mapping& m) {
    return {m.sourceEventId, m.sourceRecurrenceId};
  }
  void load(const std::string& eventId) {
    if (!loaded_.insert(eventId).second) return;
    auto it = std::lower_bound(sorted_.begin(), sorted_.end(), eventId,
                               [](const Mapping* m, const std::string& id) { return m->sourceEventId < id; });
    for (; it != sorted_.end() && (*it)->sourceEventId == eventId; ++it) overlay_[Key{eventId, (*it)->sourceRecurrenceId}] = **it;
  }
  std::vector<const Mapping*> sorted_;
  std::map<Key, Mapping> overlay_;
  std::set<std::string> loaded_;
};

class DirectionApplier {
 public:
  DirectionApplier(const ApplyContext& c, const DirectionPlan& plan, providers::Provider& to, SyncReport& report)
      : c_(c), plan_(plan), to_(to), report_(report), live_(*plan.mappings) {}

  /// Applies the plan's steps; the report lists them in plan order (a step that only records may
  /// be applied before a batch of writes planned ahead of it).
  core::Result<void> run(bool policyOnly) {
    auto result = runSteps(policyOnly);
    // what was written is recorded, also when the run stops with an error (not after a crash)
    if (!crashed_) {
      if (auto recorded = commitRecords(); !recorded && result) result = recorded;
    }
    std::stable_sort(applied_.begin(), applied_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [index, summary] : applied_) report_.steps.push_back(std::move(summary));
    return result;
  }

 private:
  core::Result<void> runSteps(bool policyOnly) {
    const std::size_t limit = std::max<std::size_t>(to_.batchLimit(), 1);
    for (const auto& s : plan_.steps) {
      if (policyOnly && s.cause != StepCause::PolicyRequired) continue;
      if (failed_.count(s.eventId)) continue;  // its other steps wait for the next try
      const bool waiting = pendingIds_.count(s.eventId) > 0;
      if (limit > 1 && batchable(s)) {
        if (waiting) {
          if (auto ok = flush(); !ok) return ok;
          if (failed_.count(s.eventId)) continue;
        }
        pending_.push_back(&s);
        pendingIds_.insert(s.eventId);
        if (pending_.size() >= limit) {
          if (auto ok = flush(); !ok) return ok;
        }
        continue;
      }
      // writes keep their order; so do an event's steps (a step that only records may go first)
      if (waiting || s.op != WriteOp::None) {
        if (auto ok = flush(); !ok) return ok;
        if (failed_.count(s.eventId)) continue;
      }
      if (auto ok = one(s); !ok) return ok;
    }
    return flush();
  }

  void applied(const PlanStep& s) {
    applied_.emplace_back(static_cast<std::size_t>(&s - plan_.steps.data()), summarize(plan_, s));
  }
  core::Result<void> step(std::string_view point) {
    if (!c_.options.failpoint) return {};
    auto at = c_.options.failpoint(point);
    if (!at) crashed_ = true;  // a simulated crash: the records not committed yet are lost with it
    return at;
  }

  /// The resource of an event's copy as the steps so far left it ("" for none).
  std::string copyOf(const std::string& eventId) {
    std::string any;
    for (const Mapping* m : live_.of(eventId)) {
      if (m->state != MappingState::Synced || m->targetEventId.empty()) continue;
      if (m->sourceRecurrenceId.empty()) return m->targetEventId;
      if (any.empty()) any = m->targetEventId;
    }
    return any;
  }
  /// The copy of an occurrence copied on its own.
  std::string ownCopy(const std::string& eventId, const std::string& rid) {
    const Mapping* m = live_.find(eventId, rid);
    return m && m->state == MappingState::Synced ? m->targetEventId : std::string();
  }
  std::string etagOf(const std::string& eventId, const std::string& resource) {
    for (const Mapping* m : live_.of(eventId)) {
      if (m->targetEventId == resource && m->state == MappingState::Synced) return m->targetEtag;
    }
    return {};
  }
  void learnEtag(const std::string& eventId, const std::string& resource, const std::string& etag) {
    for (Mapping* m : live_.of(eventId)) {
      if (m->targetEventId == resource && m->state == MappingState::Synced) m->targetEtag = etag;
    }
  }

  /// A write that may go in a batch: a whole event or series (not an occurrence of one) created,
  /// updated or removed.
  static bool batchable(const PlanStep& s) {
    return s.kind != StepKind::Skipped && s.op != WriteOp::None && s.recurrenceId.empty() && !s.standalone;
  }
  std::string resourceFor(const PlanStep& s) {
    return s.standalone ? ownCopy(s.eventId, s.recurrenceId) : copyOf(s.eventId);
  }
  /// One step, on its own; a refusal of its event is noted as failing and the run goes on.
  core::Result<void> one(const PlanStep& s);
  /// The batched steps, in one Provider::writeBatch call.
  core::Result<void> flush();
  /// Whether the run goes on after `error` of step `s` (noted as failing) or stops with it.
  core::Result<void> refused(const PlanStep& s, const core::Error& error);
  core::Result<providers::WriteResult> write(const PlanStep& s, const std::string& resource);
  /// After the provider took a write: a create that met an earlier attempt's copy brings it up to
  /// this write; then the crash point after writing, and the observer.
  core::Result<providers::WriteResult> settle(const PlanStep& s, core::Result<providers::WriteResult> written);
  core::Result<void> apply(const PlanStep& s);
  /// The records of a written step, its count, and the crash point after recording.
  core::Result<void> finish(const PlanStep& s, const std::string& resource, const providers::WriteResult& written);
  /// Hands a step's records to the record group (committed by commitRecords); the live table
  /// follows at once. `crashPoint`: the "after_record" failpoint fires once they are committed.
  core::Result<void> record(const PlanStep& s, std::vector<Mapping> records, bool crashPoint = false);
  /// Commits the record group in one transaction.
  core::Result<void> commitRecords();
  core::Result<void> skip(const PlanStep& s);
  core::Result<void> fail(const PlanStep& s, const core::Error& error);
  audit::AuditEntry entryFor(const PlanStep& s) const;
  void count(const PlanStep& s);

  const ApplyContext& c_;
  const DirectionPlan& plan_;
  providers::Provider& to_;
  SyncReport& report_;
  LiveMappings live_;
  std::set<std::string> failed_;               ///< events refused in this run: their other steps wait
  std::vector<const PlanStep*> pending_;       ///< batchable steps not sent yet, in plan order
  std::set<std::string> pendingIds_;           ///< their events (one step per event in a batch)
  std::vector<std::pair<std::size_t, StepSummary>> applied_;  ///< by the step's place in the plan
  std::vector<StepRecord> unrecorded_;           ///< the record group: applied, not yet committed
  std::size_t crashPoints_ = 0;                  ///< of its steps, the ones with an "after_record" point
  bool crashed_ = false;                         ///< a failpoint stopped the run as a crash would
  std::chrono::steady_clock::time_point groupStarted_{};
};

core::Result<void> DirectionApplier::refused(const PlanStep& s, const core::Error& error) {
  if (!refusedForEvent(error)) return std::unexpected(error);
  if (auto noted = fail(s, error); !noted) return noted;
  failed_.insert(s.eventId);
  return {};
}

core::Result<void> DirectionApplier::one(const PlanStep& s) {
  if (auto ok = apply(s); !ok) return refused(s, ok.error());
  applied(s);
  return {};
}

core::Result<void> DirectionApplier::flush() {
  const std::vector<const PlanStep*> steps = std::move(pending_);
  pending_.clear();
  pendingIds_.clear();
  if (steps.empty()) return {};
  if (steps.size() == 1) return one(*steps.front());
  if (c_.fence) {
    if (auto held = c_.fence(); !held) return held;
  }
  std::vector<std::string> resources;
  std::vector<providers::BatchedWrite> writes;
  for (const PlanStep* s : steps) {
    if (auto ok = step("before_write"); !ok) return ok;
    resources.push_back(resourceFor(*s));
    const auto op = s->op == WriteOp::Create   ? providers::BatchedWrite::Op::Create
                    : s->op == WriteOp::Update ? providers::BatchedWrite::Op::Update
                                               : providers::BatchedWrite::Op::Remove;
    writes.push_back({op, resources.back(), etagOf(s->eventId, resources.back()), &*s->write});
  }
  auto answers = to_.writeBatch(plan_.to.providerCalendarId, writes);
  if (!answers) return std::unexpected(answers.error());
  if (answers->size() != steps.size()) {
    return core::fail(core::ErrorCode::Internal, "a batch of writes answered " + std::to_string(answers->size()) + " results for " +
                                                     std::to_string(steps.size()) + " writes");
  }
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const PlanStep& s = *steps[i];
    auto written = settle(s, std::move((*answers)[i]));
    auto done = written ? finish(s, resources[i], *written) : core::Result<void>(std::unexpected(written.error()));
    if (!done) {
      if (auto goOn = refused(s, done.error()); !goOn) return goOn;
      continue;
    }
    applied(*steps[i]);
  }
  return {};
}

core::Result<providers::WriteResult> DirectionApplier::write(const PlanStep& s, const std::string& resource) {
  const std::string& calendar = plan_.to.providerCalendarId;
  if (c_.fence) {
    if (auto held = c_.fence(); !held) return std::unexpected(held.error());
  }
  if (auto ok = step("before_write"); !ok) return std::unexpected(ok.error());
  core::Result<providers::WriteResult> written = providers::WriteResult{resource, "", false};
  if (s.op == WriteOp::Remove) {
    if (auto done = to_.remove(calendar, resource, etagOf(s.eventId, resource), *s.write); !done) {
      return std::unexpected(done.error());
    }
  } else {
    written = s.op == WriteOp::Update ? to_.update(calendar, resource, etagOf(s.eventId, resource), *s.write)
                                      : to_.create(calendar, *s.write);
  }
  written = settle(s, std::move(written));
  if (!written) return written;
  if (s.op == WriteOp::Remove && !s.recurrenceId.empty() && !s.standalone) {
    // the series copy changed (an EXDATE): learn its new ETag so it is not taken for a user's edit
    auto fresh = to_.getEvent(calendar, resource);
    if (fresh && !fresh->empty()) {
      if (auto ok = commitRecords(); !ok) return std::unexpected(ok.error());  // its rows first
      if (auto ok = c_.mappings.setTargetEtag(c_.pair.id, resource, fresh->front().etag); !ok) {
        return std::unexpected(ok.error());
      }
      learnEtag(s.eventId, resource, fresh->front().etag);
    }
  }
  return written;
}

core::Result<providers::WriteResult> DirectionApplier::settle(const PlanStep& s,
                                                              core::Result<providers::WriteResult> written) {
  if (written && s.op != WriteOp::Remove && written->existed) {
    // an earlier attempt created it and crashed before recording: bring it up to this write
    written = to_.update(plan_.to.providerCalendarId, written->id, written->etag, *s.write);
    ++report_.recovered;
  }
  if (!written) return written;
  if (auto ok = step("after_write"); !ok) return std::unexpected(ok.error());
  if (c_.observer) c_.observer(model::toString(plan_.to.provider), observedAction(s.op));
  return written;
}

core::Result<void> DirectionApplier::apply(const PlanStep& s) {
  if (s.kind == StepKind::Skipped) return skip(s);
  const std::string resource = resourceFor(s);
  if (s.op != WriteOp::None) {
    auto written = write(s, resource);
    if (!written) return std::unexpected(written.error());
    return finish(s, resource, *written);
  }
  // Nothing written: a record keeps the copy's ETag as the steps so far left it (an earlier step
  // of this run may have rewritten the resource; the plan only knew the old one), unless it
  // carries the ETag the listing just showed.
  std::vector<Mapping> records = s.records;
  for (auto& r : records) {
    if (r.targetEventId == kNewCopy) r.targetEventId = resource;
    const Mapping* now = live_.find(r.sourceEventId, r.sourceRecurrenceId);
    if (!s.etagFromListing && now && now->targetEventId == r.targetEventId) r.targetEtag = now->targetEtag;
  }
  if (s.etagFromListing && !records.empty()) learnEtag(s.eventId, records.front().targetEventId, records.front().targetEtag);
  if (auto ok = record(s, std::move(records)); !ok) return ok;
  count(s);
  return {};
}

core::Result<void> DirectionApplier::finish(const PlanStep& s, const std::string& resource,
                                            const providers::WriteResult& written) {
  std::vector<Mapping> records = s.records;
  const bool upsert = s.op != WriteOp::Remove;
  for (auto& r : records) {
    if (r.targetEventId == kNewCopy) r.targetEventId = upsert ? written.id : resource;
    if (upsert && r.sourceRecurrenceId == s.recurrenceId) r.targetEtag = written.etag;
  }
  if (upsert) learnEtag(s.eventId, written.id, written.etag);
  count(s);
  return record(s, std::move(records), true);
}

audit::AuditEntry DirectionApplier::entryFor(const PlanStep& s) const {
  const auto [action, decision] = auditNames(s);
  audit::AuditEntry e;
  e.userId = c_.pair.userId;
  e.action = action;
  // the opaque reference, not the source ids (CalDAV hrefs often embed the source UID)
  const std::string key = sourceKey(plan_.from.id, s.eventId, s.recurrenceId);
  e.objectRef = "pair/" + c_.pair.id + "/event/" + policy::originReference(c_.pair.id, key);
  e.decision = decision;
  e.reasons = s.reasons;
  e.facts["target_provider"] = std::string(model::toString(plan_.to.provider));
  if (s.cause != StepCause::None) e.facts["cause"] = std::string(toString(s.cause));
  return e;
}

// The step's mappings and its audit entry join the record group; the live table follows at once.
core::Result<void> DirectionApplier::record(const PlanStep& s, std::vector<Mapping> records, bool crashPoint) {
  if (records.empty() && !s.audited) return crashPoint ? step("after_record") : core::Result<void>{};
  std::optional<audit::AuditEntry> entry;
  if (s.audited) entry = entryFor(s);
  if (unrecorded_.empty()) groupStarted_ = std::chrono::steady_clock::now();
  unrecorded_.push_back({records, std::move(entry)});
  crashPoints_ += crashPoint ? 1 : 0;
  for (auto& r : records) live_.put(std::move(r));
  if (unrecorded_.size() >= std::max<std::size_t>(c_.options.recordGroup, 1) ||
      std::chrono::steady_clock::now() - groupStarted_ >= c_.options.recordDelay) {
    return commitRecords();
  }
  return {};
}

core::Result<void> DirectionApplier::commitRecords() {
  if (unrecorded_.empty()) return {};
  const std::vector<StepRecord> group = std::move(unrecorded_);
  unrecorded_.clear();
  const std::size_t points = std::exchange(crashPoints_, 0);
  if (auto ok = c_.mappings.recordSteps(group); !ok) return ok;
  for (std::size_t i = 0; i < points; ++i) {
    if (auto ok = step("after_record"); !ok) return ok;
  }
  return {};
}

// The target refused this event: it is failing (reason, attempts, next try), audited and logged.
core::Result<void> DirectionApplier::fail(const PlanStep& s, const core::Error& error) {
  if (auto ok = commitRecords(); !ok) return ok;  // the audit log keeps the order things happened in
  audit::AuditEntry entry = entryFor(s);
  entry.action = "sync.write_failed";
  entry.decision = "failing";
  entry.reasons = {error.message};
  entry.facts["error"] = std::string(core::errorCodeName(error.code));
  auto failing = c_.failures.record(c_.pair.id, plan_.from.id, s.eventId, error.message, entry);
  if (!failing) return std::unexpected(failing.error());
  core::log::warn("sync.write_failed", {{"pair", c_.pair.id},
                                        {"calendar", plan_.from.id},
                                        {"event_ref", entry.objectRef},
                                        {"error", error.describe()},
                                        {"attempts", failing->attempts},
                                        {"next_retry_at", failing->nextRetryAt}});
  report_.failedEvents.push_back(s.eventId);
  return {};
}

// A resource calgate cannot take: kept with its reason; audited and logged when it is new or changed.
core::Result<void> DirectionApplier::skip(const PlanStep& s) {
  const auto it = std::find_if(plan_.skipped.begin(), plan_.skipped.end(),
                               [&](const providers::SkippedResource& r) { return r.id == s.eventId; });
  if (it == plan_.skipped.end()) return core::fail(core::ErrorCode::Internal, "a skipped step without its resource");
  if (auto ok = commitRecords(); !ok) return ok;  // the audit log keeps the order things happened in
  const audit::AuditEntry entry = entryFor(s);
  auto changed = c_.skips.record(c_.pair.id, plan_.from.id, *it, entry);
  if (!changed) return std::unexpected(changed.error());
  if (*changed) {
    core::log::warn("sync.resource_skipped",
                    {{"pair", c_.pair.id}, {"calendar", plan_.from.id}, {"event_ref", entry.objectRef}, {"reason", it->reason}});
  }
  count(s);
  return {};
}

void DirectionApplier::count(const PlanStep& s) {
  switch (s.kind) {
    case StepKind::Create: ++report_.created; break;
    case StepKind::Update: ++report_.updated; break;
    case StepKind::Restore: ++report_.restored; break;
    case StepKind::Delete: report_.deleted += s.op == WriteOp::Remove ? 1 : 0; break;
    case StepKind::Deny: report_.denied += s.records.empty() ? 0 : 1; break;
    case StepKind::Unchanged: ++report_.unchanged; break;
    case StepKind::Skipped: ++report_.skippedResources; break;
    case StepKind::KeepDeleted:
      if (s.cause == StepCause::UserDeleted) report_.respectedDeletions += s.audited ? 1 : 0;
      else ++report_.unchanged;
      break;
  }
}

}  // namespace

bool refusedForEvent(const core::Error& error) {
  if (error.cause == core::Cause::LeaseLost) return false;  // the run lost its pair: it stops at once
  if (error.cause == core::Cause::WriteRefused) return true;
  switch (error.code) {
    case core::ErrorCode::Invalid:
    case core::ErrorCode::Conflict:
    case core::ErrorCode::PreconditionFailed:
    case core::ErrorCode::NotFound:
    case core::ErrorCode::Gone: return true;
    default: return false;  // the server, the account, the database, a crash: the run stops
  }
}

core::Result<void> settleFailures(const ApplyContext& context, const DirectionPlan& plan, const SyncReport& report) {
  if (plan.failing.empty()) return {};
  const std::set<std::string> failed(report.failedEvents.begin(), report.failedEvents.end());
  std::set<std::string> done;
  for (const auto& s : report.steps) {
    if (s.fromCalendarId == plan.from.id && !failed.count(s.eventId)) done.insert(s.eventId);
  }
  std::vector<std::string> over;
  for (const auto& f : plan.failing) {
    if (done.count(f.sourceEventId)) over.push_back(f.sourceEventId);
  }
  return context.failures.forget(context.pair.id, plan.from.id, over);
}

core::Result<void> settleSkipped(const ApplyContext& context, const DirectionPlan& plan) {
  auto known = context.skips.ids(context.pair.id, plan.from.id);
  if (!known) return std::unexpected(known.error());
  if (known->empty()) return {};  // the usual case: nothing to look up
  const std::set<std::string> readable(plan.readable.begin(), plan.readable.end());
  std::set<std::string> still;
  for (const auto& r : plan.skipped) still.insert(r.id);
  std::vector<std::string> over;
  for (const auto& id : *known) {
    if (readable.count(id) || (plan.completeListing && !still.count(id))) over.push_back(id);
  }
  return context.skips.forget(context.pair.id, plan.from.id, over);
}

core::Result<void> applyDirection(const ApplyContext& context, const DirectionPlan& plan, providers::Provider& to,
                                  bool policyOnly, SyncReport& report) {
  if (!policyOnly) report.skippedCopies += plan.skippedCopies;
  return DirectionApplier(context, plan, to, report).run(policyOnly);
}

}  // namespace calgate::sync::detail
