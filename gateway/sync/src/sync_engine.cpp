#include "calgate/sync/sync_engine.hpp"

#include "calgate/audit/audit_log.hpp"
#include "calgate/core/hash.hpp"
#include "calgate/policy/content_hash.hpp"
#include "calgate/policy/evaluator.hpp"
#include "calgate/policy/org_policy_source.hpp"
#include "calgate/sync/calendar_store.hpp"
#include "calgate/sync/mapping_store.hpp"
#include "calgate/sync/pair_store.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace calgate::sync {

using core::ErrorCode;
using core::fail;
using model::Event;

namespace {

constexpr long long kDay = 86400;

std::string cursorKind(model::ProviderKind provider) {
  switch (provider) {
    case model::ProviderKind::Google: return "sync_token";
    case model::ProviderKind::Microsoft: return "delta_link";
    case model::ProviderKind::CalDav: return "caldav_sync_token";
  }
  return "caldav_sync_token";  // not reached: the switch covers the enum
}

std::string describeOrg(const policy::OrgPolicy& org) {
  // what the evaluator acts on, not how the lookup went: a pinned policy that is re-proven or not
  // on alternate lookups renders the same copies and must not force complete listings
  std::string out = org.domain + "|" + std::to_string(static_cast<int>(org.level)) + "|" + org.label.value_or("") +
                    "|" + (org.trusted() ? "trusted" : "") + "|" + (org.failClosed() ? "fail-closed" : "");
  for (const auto& a : org.allow) out += "|" + a;
  return out;
}

/// What the copies of a pair are rendered under: its rules, window and both sides' organisation policies.
std::string policyFingerprint(const SyncPair& pair, const policy::OrgPolicy& source, const policy::OrgPolicy& target) {
  // The window too: a wider window must list the source completely to find what it now covers.
  return core::sha256Hex(rulesToJson(pair.rules) + "\n" + describeOrg(source) + "\n" + describeOrg(target) + "\n" +
                         std::to_string(pair.windowPastDays) + "/" + std::to_string(pair.windowFutureDays));
}

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

/// One calendar of the pair, with what its pull returned.
struct Side {
  providers::Provider& provider;
  CalendarRef calendar;
  providers::ChangeSet changes;
};

struct Deps {
  MappingStore& mappings;
  PairStore& pairs;
  audit::AuditLog& audit;
  policy::OrgPolicySource& orgPolicies;
  const core::Clock& clock;
  const SyncOptions& options;
  const WriteObserver& observer;
};

/// One direction of one run: mirrors `from`'s originals into `to`.
class DirectionRun {
 public:
  DirectionRun(Deps deps, const SyncPair& pair, Side& from, Side& to, SyncReport& report)
      : d_(deps), pair_(pair), from_(from), to_(to), report_(report) {}

  core::Result<void> execute();

 private:
  using Key = std::pair<std::string, std::string>;  // source event id, recurrence key

  core::Result<void> loadMappings();
  void observeCopies();
  core::Result<void> processGroup(const std::string& eventId, std::vector<Event> events, bool force);
  core::Result<void> writeOne(const std::string& eventId, const Event& event, bool force);
  core::Result<void> deleteCopy(const std::string& eventId, const std::string& why, bool sourceGone);
  core::Result<void> step(std::string_view point) {
    return d_.options.failpoint ? d_.options.failpoint(point) : core::Result<void>{};
  }
  core::Result<void> remember(const Mapping& m);
  core::Result<void> audit(const std::string& action, const std::string& decision, const std::string& key,
                           std::vector<std::string> reasons);
  audit::AuditEntry entryFor(const std::string& action, const std::string& decision, const std::string& key,
                             std::vector<std::string> reasons) const;
  /// Saves the mapping and its audit entry in one transaction.
  core::Result<void> rememberWith(const Mapping& m, const audit::AuditEntry& entry);
  policy::WriteContext context(const std::string& eventId, const std::string& rid) const;
  bool inWindow(const Event& master) const;
  Mapping* find(const std::string& eventId, const std::string& rid) {
    auto it = byKey_.find({eventId, rid});
    return it == byKey_.end() ? nullptr : &it->second;
  }
  std::vector<Mapping*> mappingsOf(const std::string& eventId) {
    std::vector<Mapping*> out;
    for (auto it = byKey_.lower_bound({eventId, ""}); it != byKey_.end() && it->first.first == eventId; ++it) {
      out.push_back(&it->second);
    }
    return out;
  }
  // The parts of one copy (a series and its occurrences) all map the same source event, so a
  // copy's mappings are found among that event's, not by scanning the pair.
  std::string targetEtagOf(const std::string& eventId, const std::string& targetId) {
    for (const Mapping* m : mappingsOf(eventId)) {
      if (m->targetEventId == targetId && m->state == MappingState::Synced) return m->targetEtag;
    }
    return {};
  }
  void learnEtag(const std::string& eventId, const std::string& targetId, const std::string& etag) {
    for (Mapping* m : mappingsOf(eventId)) {
      if (m->targetEventId == targetId && m->state == MappingState::Synced) m->targetEtag = etag;
    }
  }

  Deps d_;
  const SyncPair& pair_;
  Side& from_;
  Side& to_;
  SyncReport& report_;
  policy::Evaluator evaluator_;
  policy::OrgPolicy org_;
  std::map<Key, Mapping> byKey_;
  std::set<std::string> touchedTargets_;  // copies someone else changed
  std::set<std::string> goneTargets_;     // copies someone else deleted
  std::set<std::string> oppositeCopies_;  // ids in `from_` of the other direction's copies
};

core::Result<void> DirectionRun::loadMappings() {
  auto loaded = d_.mappings.load(pair_.id, from_.calendar.id);
  if (!loaded) return std::unexpected(loaded.error());
  for (auto& m : *loaded) byKey_[{m.sourceEventId, m.sourceRecurrenceId}] = std::move(m);
  // Two-way: the other direction's copies live in our source. They carry the origin marker, but
  // some clients drop unknown properties when a user edits an event: know them by id as well.
  auto opposite = d_.mappings.load(pair_.id, to_.calendar.id);
  if (!opposite) return std::unexpected(opposite.error());
  for (const auto& m : *opposite) {
    if (!m.targetEventId.empty()) oppositeCopies_.insert(m.targetEventId);
  }
  return {};
}

void DirectionRun::observeCopies() {
  std::map<std::string, std::vector<const Mapping*>> byTarget;
  for (const auto& [k, m] : byKey_) {
    if (m.state == MappingState::Synced && !m.targetEventId.empty()) byTarget[m.targetEventId].push_back(&m);
  }
  const auto& changes = to_.changes;
  std::set<std::string> listed;
  for (const auto& e : changes.changed) {
    listed.insert(e.id);
    auto it = byTarget.find(e.id);
    if (it == byTarget.end()) continue;
    for (const Mapping* m : it->second) {
      if (m->targetEtag != e.etag) touchedTargets_.insert(e.id);
    }
  }
  for (const auto& id : changes.removed) {
    if (byTarget.count(id)) goneTargets_.insert(id);
  }
  if (changes.complete) {
    std::set<std::string> unreadable(changes.unreadable.begin(), changes.unreadable.end());
    const long long now = d_.clock.nowUnixSeconds();
    for (const auto& [id, ms] : byTarget) {
      const bool covered = std::any_of(ms.begin(), ms.end(), [&](const Mapping* m) {
        return listingCovers(changes, *m, now, pair_.windowPastDays, pair_.windowFutureDays);
      });
      if (covered && !listed.count(id) && !unreadable.count(id)) goneTargets_.insert(id);
    }
  }
  for (const auto& id : goneTargets_) touchedTargets_.erase(id);
}

policy::WriteContext DirectionRun::context(const std::string& eventId, const std::string& rid) const {
  return writeContext(pair_.id, from_.calendar, to_.calendar, eventId, rid);
}

bool DirectionRun::inWindow(const Event& master) const {
  const long long now = d_.clock.nowUnixSeconds();
  const long long from = now - pair_.windowPastDays * kDay;
  const long long to = now + pair_.windowFutureDays * kDay;
  const long long start = unixOf(master.start);
  if (!master.recurrence.empty()) return start < to;  // a series may reach into the window from any start
  return unixOf(master.end) > from && start < to;
}

core::Result<void> DirectionRun::remember(const Mapping& m) {
  if (auto saved = d_.mappings.save(m); !saved) return saved;
  byKey_[{m.sourceEventId, m.sourceRecurrenceId}] = m;
  return {};
}

core::Result<void> DirectionRun::rememberWith(const Mapping& m, const audit::AuditEntry& entry) {
  if (auto saved = d_.mappings.recordWrite(m, entry); !saved) return saved;
  byKey_[{m.sourceEventId, m.sourceRecurrenceId}] = m;
  return {};
}

core::Result<void> DirectionRun::audit(const std::string& action, const std::string& decision, const std::string& key,
                                       std::vector<std::string> reasons) {
  return d_.audit.append(entryFor(action, decision, key, std::move(reasons)));
}

audit::AuditEntry DirectionRun::entryFor(const std::string& action, const std::string& decision,
                                         const std::string& key, std::vector<std::string> reasons) const {
  audit::AuditEntry e;
  e.userId = pair_.userId;
  e.action = action;
  // the opaque reference, not the source ids (CalDAV hrefs often embed the source UID)
  e.objectRef = "pair/" + pair_.id + "/event/" + policy::originReference(pair_.id, key);
  e.decision = decision;
  e.reasons = std::move(reasons);
  e.facts["target_provider"] = std::string(model::toString(to_.calendar.provider));
  return e;
}

core::Result<void> DirectionRun::execute() {
  if (auto ok = loadMappings(); !ok) return ok;
  org_ = d_.orgPolicies.policyFor(from_.calendar.accountDomain);
  observeCopies();

  // Group the source's changes by event: a series is its master and its overrides.
  const auto& changes = from_.changes;
  std::set<std::string> unreadable(changes.unreadable.begin(), changes.unreadable.end());
  std::vector<std::string> order;
  std::map<std::string, std::vector<Event>> groups;
  for (const auto& e : changes.changed) {
    if (unreadable.count(e.id)) continue;
    auto [it, fresh] = groups.try_emplace(e.id);
    if (fresh) order.push_back(e.id);
    it->second.push_back(e);
  }

  // Sources that are gone: removed since the cursor, or missing from a complete listing.
  std::set<std::string> vanished;
  for (const auto& id : changes.removed) {
    if (!groups.count(id) && !mappingsOf(id).empty()) vanished.insert(id);
  }
  if (changes.complete) {
    const long long now = d_.clock.nowUnixSeconds();
    std::set<std::string> candidates;
    for (const auto& [k, m] : byKey_) {
      if (!groups.count(k.first) && !unreadable.count(k.first) &&
          listingCovers(changes, m, now, pair_.windowPastDays, pair_.windowFutureDays)) {
        candidates.insert(k.first);
      }
    }
    for (const auto& id : candidates) {
      // A series we know no end of may have ended before a time-bounded listing: ask for it.
      const Mapping* series = find(id, "");
      if (changes.completeWithin && series && series->recurring) {
        auto still = from_.provider.getEvent(from_.calendar.providerCalendarId, id);
        if (still) continue;
        if (still.error().code != ErrorCode::NotFound) return std::unexpected(still.error());
      }
      vanished.insert(id);
    }
  }
  // Sources that moved out of the window take their copies with them: guarded like deletions.
  std::set<std::string> leaving;
  for (const auto& [id, events] : groups) {
    const Mapping* series = find(id, "");
    if (!series || series->state != MappingState::Synced) continue;
    for (const auto& e : events) {
      if (!e.recurrenceId && !e.origin && !inWindow(e) && series->sourceEtag != e.etag) leaving.insert(id);
    }
  }

  // The mass-delete guard counts copies (resources), not occurrences.
  std::set<std::string> live, doomed;
  for (const auto& [k, m] : byKey_) {
    if (m.state != MappingState::Synced) continue;
    live.insert(k.first);
    if (vanished.count(k.first) || leaving.count(k.first)) doomed.insert(k.first);
  }
  if (doomed.size() >= d_.options.massDeleteMinimum &&
      static_cast<double>(doomed.size()) > d_.options.massDeleteShare * static_cast<double>(live.size()) &&
      !pair_.deletionsConfirmedAt) {
    const std::string reason = "one pull would delete " + std::to_string(doomed.size()) + " of " +
                               std::to_string(live.size()) + " copies in " + to_.calendar.id;
    if (auto p = d_.pairs.pause(pair_.id, reason); !p) return p;
    audit::AuditEntry e;
    e.userId = pair_.userId;
    e.action = "sync.guard";
    e.objectRef = "pair/" + pair_.id;
    e.decision = "paused";
    e.reasons = {reason, "nothing deleted; waiting for the user to confirm"};
    if (auto a = d_.audit.append(e); !a) return a;
    report_.paused = true;
    return {};
  }

  // Copies someone deleted in the target: respected (kept deleted) or recreated.
  std::set<std::string> force;
  for (auto& [k, m] : byKey_) {
    if (m.state != MappingState::Synced || !goneTargets_.count(m.targetEventId)) continue;
    m.state = MappingState::Deleted;  // deletedAt stays unset: the user deleted it, not the source
    if (d_.options.restoreDeletedCopies) {
      // only in memory: a crash before the copy is recreated must leave the restore to do
      force.insert(k.first);
      continue;
    }
    if (auto ok = d_.mappings.save(m); !ok) return ok;
    if (k.second.empty()) {
      ++report_.respectedDeletions;
      if (auto a = audit("sync.respect_deletion", "kept_deleted", sourceKey(from_.calendar.id, k.first, ""),
                         {"the copy was deleted in the target; it stays deleted while its source is unchanged"});
          !a) {
        return a;
      }
    }
  }
  // Copies someone changed in the target: restored from the source.
  for (const auto& [k, m] : byKey_) {
    if (m.state == MappingState::Synced && touchedTargets_.count(m.targetEventId)) force.insert(k.first);
  }
  for (const auto& id : force) {
    if (groups.count(id) || vanished.count(id)) continue;
    auto current = from_.provider.getEvent(from_.calendar.providerCalendarId, id);
    if (!current) {
      if (current.error().code == ErrorCode::NotFound) {
        vanished.insert(id);
        continue;
      }
      return std::unexpected(current.error());
    }
    groups[id] = std::move(*current);
    order.push_back(id);
  }

  for (const auto& id : order) {
    if (auto ok = processGroup(id, std::move(groups[id]), force.count(id) > 0); !ok) return ok;
  }
  for (const auto& id : vanished) {
    if (auto ok = deleteCopy(id, "the source event was deleted", true); !ok) return ok;
  }
  return {};
}

core::Result<void> DirectionRun::processGroup(const std::string& eventId, std::vector<Event> events, bool force) {
  if (events.empty()) return {};
  if (oppositeCopies_.count(eventId) ||
      std::any_of(events.begin(), events.end(), [](const Event& e) { return e.origin.has_value(); })) {
    ++report_.skippedCopies;  // calgate's own copy: never mirrored, so nothing loops
    return {};
  }
  std::stable_partition(events.begin(), events.end(), [](const Event& e) { return !e.recurrenceId; });
  const Event* master = events.front().recurrenceId ? nullptr : &events.front();
  Mapping* series = find(eventId, "");

  if (master && !inWindow(*master)) {
    // Outside the window: not mirrored. A copy whose source moved out of the window goes.
    if (series && series->state == MappingState::Synced && series->sourceEtag != master->etag) {
      return deleteCopy(eventId, "the source event moved outside the sync window", false);
    }
    return {};
  }

  // An override that vanished from a series (the occurrence is back to normal) cannot be removed
  // from the copy with a write of its own: rebuild the copy.
  if (master && series && series->state == MappingState::Synced) {
    std::set<std::string> current;
    for (const auto& e : events) current.insert(recurrenceKey(e));
    bool dropped = false;
    for (Mapping* m : mappingsOf(eventId)) {
      // withdrawn earlier (deletedAt set, awaiting purge) does not count again
      if (!m->sourceRecurrenceId.empty() && !m->deletedAt && !current.count(m->sourceRecurrenceId)) dropped = true;
    }
    if (dropped) {
      if (auto ok = deleteCopy(eventId, "an exception of the series was withdrawn; the copy is rebuilt", false); !ok) {
        return ok;
      }
      const long long now = d_.clock.nowUnixSeconds();
      for (Mapping* m : mappingsOf(eventId)) {
        if (m->sourceRecurrenceId.empty() || current.count(m->sourceRecurrenceId)) continue;
        Mapping withdrawn = *m;
        withdrawn.deletedAt = now;  // purged with the other soft-deleted mappings
        if (auto ok = d_.mappings.save(withdrawn); !ok) return ok;
        byKey_.erase({eventId, withdrawn.sourceRecurrenceId});
      }
      force = true;
    }
  }
  for (const auto& e : events) {
    if (auto ok = writeOne(eventId, e, force); !ok) return ok;
  }
  return {};
}

core::Result<void> DirectionRun::writeOne(const std::string& eventId, const Event& event, bool force) {
  const std::string rid = recurrenceKey(event);
  const std::string key = sourceKey(from_.calendar.id, eventId, rid);
  const auto decision = evaluator_.evaluate(pair_.rules, org_, event, context(eventId, rid));
  Mapping* m = find(eventId, rid);
  Mapping* series = find(eventId, "");
  const bool seriesCopy = series && series->state == MappingState::Synced && !series->targetEventId.empty();

  Mapping next = m ? *m : Mapping{};
  next.pairId = pair_.id;
  next.sourceCalendarId = from_.calendar.id;
  next.sourceEventId = eventId;
  next.sourceRecurrenceId = rid;
  next.sourceEtag = event.etag;
  next.startAt = unixOf(event.start);
  next.endAt = unixOf(event.end);
  next.allDay = event.allDay();
  next.recurring = !event.recurrence.empty();

  if (!decision.write) {
    if (m && m->state == MappingState::Denied && m->sourceEtag == event.etag) return {};
    next.state = m && m->state == MappingState::Synced ? MappingState::Synced : MappingState::Denied;
    ++report_.denied;
    return rememberWith(next, entryFor("sync.deny", "denied", key, decision.reasons));
  }
  const policy::ApprovedWrite& write = *decision.write;
  const std::string hash = policy::contentHash(write);
  const std::string& calendar = to_.calendar.providerCalendarId;

  if (write.action() == policy::ApprovedWrite::Action::Delete) {
    if (m && m->state == MappingState::Deleted && m->contentSha256 == hash) return {};
    const bool copy = rid.empty() ? (m && m->state == MappingState::Synced) : seriesCopy;
    const std::string targetId = rid.empty() ? (m ? m->targetEventId : "") : (seriesCopy ? series->targetEventId : "");
    if (copy) {
      if (auto ok = step("before_write"); !ok) return ok;
      if (auto done = to_.provider.remove(calendar, targetId, targetEtagOf(eventId, targetId), write); !done) return done;
      if (auto ok = step("after_write"); !ok) return ok;
      ++report_.deleted;
      if (d_.observer) d_.observer(model::toString(to_.calendar.provider), "delete");
      if (!rid.empty()) {
        // the series copy changed (an EXDATE): learn its new ETag so it is not taken for a user's edit
        auto fresh = to_.provider.getEvent(calendar, targetId);
        if (fresh && !fresh->empty()) {
          if (auto ok = d_.mappings.setTargetEtag(pair_.id, targetId, fresh->front().etag); !ok) return ok;
          learnEtag(eventId, targetId, fresh->front().etag);
        }
      }
    }
    next.state = MappingState::Deleted;
    next.contentSha256 = hash;
    next.targetEventId = targetId;
    next.deletedAt.reset();
    if (copy) {
      if (auto ok = rememberWith(next, entryFor("sync.delete", "delete", key, decision.reasons)); !ok) return ok;
    } else if (auto ok = remember(next); !ok) {
      return ok;
    }
    return step("after_record");
  }

  const bool userDeleted = m && m->state == MappingState::Deleted && !m->deletedAt;
  if (!force && m && m->contentSha256 == hash &&
      (m->state == MappingState::Synced || (userDeleted && !d_.options.restoreDeletedCopies))) {
    ++report_.unchanged;
    // the decision is audited (with the evaluator's reasons) when the source was seen to change
    if (m->sourceEtag == event.etag) return {};
    return rememberWith(next, entryFor("sync.skip", userDeleted ? "kept_deleted" : "unchanged", key, decision.reasons));
  }
  if (!rid.empty() && !seriesCopy) {
    // the series itself is not mirrored (denied, outside the window): nothing to attach this to
    next.state = MappingState::Denied;
    if (m && m->state == MappingState::Denied && m->sourceEtag == event.etag) return {};
    ++report_.denied;
    return rememberWith(next, entryFor("sync.deny", "denied", key, {"the series of this occurrence is not mirrored"}));
  }
  const bool exists = rid.empty() ? (m && m->state == MappingState::Synced && !m->targetEventId.empty()) : true;
  const std::string targetId = rid.empty() ? (exists ? m->targetEventId : "") : series->targetEventId;
  const bool restoring = force && m && m->contentSha256 == hash;

  if (auto ok = step("before_write"); !ok) return ok;
  auto written = exists ? to_.provider.update(calendar, targetId, targetEtagOf(eventId, targetId), write)
                        : to_.provider.create(calendar, write);
  if (written && written->existed) {
    // an earlier attempt created it and crashed before recording: bring it up to this write
    written = to_.provider.update(calendar, written->id, written->etag, write);
  }
  if (!written) return std::unexpected(written.error());
  if (auto ok = step("after_write"); !ok) return ok;
  const std::string action = restoring ? "restore" : (exists ? "update" : "create");
  if (restoring) ++report_.restored;
  else if (exists) ++report_.updated;
  else ++report_.created;
  if (d_.observer) d_.observer(model::toString(to_.calendar.provider), exists ? "update" : "create");

  next.state = MappingState::Synced;
  next.contentSha256 = hash;
  next.targetEventId = written->id;
  next.targetEtag = written->etag;
  next.deletedAt.reset();
  // mapping, the resource's new ETag for its other mappings, and the audit entry: one commit
  if (auto ok = rememberWith(next, entryFor("sync.write", action, key, decision.reasons)); !ok) return ok;
  learnEtag(eventId, written->id, written->etag);
  return step("after_record");
}

core::Result<void> DirectionRun::deleteCopy(const std::string& eventId, const std::string& why, bool sourceGone) {
  auto parts = mappingsOf(eventId);
  const Mapping* live = nullptr;
  for (const Mapping* m : parts) {
    if (m->state == MappingState::Synced && !m->targetEventId.empty() && (!live || m->sourceRecurrenceId.empty())) {
      live = m;
    }
  }
  const std::string key = sourceKey(from_.calendar.id, eventId, "");
  if (live) {
    // The removal is approved like any write: the evaluator turns a cancelled source into a Delete.
    Event gone;
    gone.id = eventId;
    gone.status = model::Status::Cancelled;
    gone.start = model::ZonedTime{std::chrono::sys_seconds(std::chrono::seconds(live->startAt)), "UTC"};
    gone.end = model::ZonedTime{std::chrono::sys_seconds(std::chrono::seconds(live->endAt)), "UTC"};
    const auto decision = evaluator_.evaluate(pair_.rules, org_, gone, context(eventId, ""));
    if (!decision.write || decision.write->action() != policy::ApprovedWrite::Action::Delete) {
      return fail(ErrorCode::Internal, "the evaluator did not approve removing a copy");
    }
    const std::string targetId = live->targetEventId;
    if (auto ok = step("before_write"); !ok) return ok;
    if (auto done = to_.provider.remove(to_.calendar.providerCalendarId, targetId, targetEtagOf(eventId, targetId),
                                        *decision.write);
        !done) {
      return done;
    }
    if (auto ok = step("after_write"); !ok) return ok;
    ++report_.deleted;
    if (d_.observer) d_.observer(model::toString(to_.calendar.provider), "delete");
  }
  const long long now = d_.clock.nowUnixSeconds();
  for (Mapping* m : parts) {
    Mapping next = *m;
    next.state = MappingState::Deleted;
    next.contentSha256.clear();
    next.targetEtag.clear();
    next.deletedAt = sourceGone ? std::optional<long long>(now) : std::nullopt;
    if (auto ok = remember(next); !ok) return ok;
  }
  if (live) {
    if (auto a = audit("sync.delete", "delete", key, {why}); !a) return a;
    return step("after_record");
  }
  return {};
}

}  // namespace

long long unixOf(const model::EventTime& t) {
  if (const auto* d = std::get_if<model::Date>(&t)) {
    return std::chrono::sys_days(d->day).time_since_epoch().count() * kDay;
  }
  if (const auto* z = std::get_if<model::ZonedTime>(&t)) return z->instant.time_since_epoch().count();
  // floating: read as UTC; good enough to place it in a window measured in days
  return std::get<model::FloatingTime>(t).local.time_since_epoch().count();
}

policy::WriteContext writeContext(const std::string& pairId, const CalendarRef& from, const CalendarRef& to,
                                  const std::string& eventId, const std::string& recurrenceId) {
  policy::WriteContext c;
  c.pairId = pairId;
  c.sourceKey = sourceKey(from.id, eventId, recurrenceId);
  if (!recurrenceId.empty()) c.seriesKey = sourceKey(from.id, eventId, "");
  c.targetProvider = to.provider;
  c.targetDomain = to.accountDomain;
  c.targetZone = to.timeZone.empty() ? "UTC" : to.timeZone;
  return c;
}

std::string sourceKey(std::string_view calendarId, std::string_view eventId, std::string_view recurrenceId) {
  std::string out;
  out.reserve(calendarId.size() + eventId.size() + recurrenceId.size() + 2);
  out.append(calendarId).append("|").append(eventId).append("|").append(recurrenceId);
  return out;
}

std::string recurrenceKey(const Event& event) {
  if (!event.recurrenceId) return {};
  const auto& t = *event.recurrenceId;
  if (const auto* d = std::get_if<model::Date>(&t)) return "D" + model::formatDate(d->day);
  if (const auto* z = std::get_if<model::ZonedTime>(&t)) return "Z" + model::formatUtc(z->instant);
  return "L" + model::formatLocal(std::get<model::FloatingTime>(t).local);
}

SyncEngine::SyncEngine(store::Database& db, policy::OrgPolicySource& orgPolicies, const core::Clock& clock, SyncOptions options)
    : db_(db), orgPolicies_(orgPolicies), clock_(clock), options_(std::move(options)) {}

core::Result<SyncReport> SyncEngine::syncPair(const std::string& pairId, providers::Provider& source,
                                              providers::Provider& target) {
  PairStore pairs(db_, clock_);
  CalendarStore calendars(db_, clock_);
  MappingStore mappings(db_, clock_);
  audit::AuditLog audit(db_, clock_);
  SyncReport report;

  auto pair = pairs.get(pairId);
  if (!pair) return std::unexpected(pair.error());
  if (!pair->enabled || pair->needsConfirmation) {
    report.skipped = true;
    return report;
  }
  auto sourceCal = calendars.get(pair->sourceCalendarId);
  if (!sourceCal) return std::unexpected(sourceCal.error());
  auto targetCal = calendars.get(pair->targetCalendarId);
  if (!targetCal) return std::unexpected(targetCal.error());
  const long long now = clock_.nowUnixSeconds();
  const auto window = providers::TimeWindow::around(std::chrono::sys_seconds(std::chrono::seconds(now)),
                                                    pair->windowPastDays, pair->windowFutureDays);

  // Copies rendered under other rules or organisation policies are re-rendered: list everything.
  const std::string fingerprint = policyFingerprint(*pair, orgPolicies_.policyFor(sourceCal->accountDomain),
                                                    orgPolicies_.policyFor(targetCal->accountDomain));
  const bool rerender = fingerprint != pair->policyFingerprint;
  // A cursor some server cannot continue from without saying so (Xandikos answers an unknown
  // token with a plain 500) would fail every run: after a run that failed pulling, the next one
  // starts over with a complete listing.
  const bool startOver = pair->lastErrorCause == core::Cause::PullFailed;
  auto pull = [&](providers::Provider& p, const CalendarRef& cal) -> core::Result<providers::ChangeSet> {
    auto cursor = mappings.cursor(pair->id, cal.id);
    if (!cursor) return std::unexpected(cursor.error());
    auto changes = p.pullChanges(cal.providerCalendarId, rerender || startOver ? std::string() : *cursor, window);
    if (!changes) {
      auto e = changes.error();
      e.message = "pull of " + cal.id + ": " + e.message;
      e.cause = core::Cause::PullFailed;
      (void)pairs.recordFailure(pair->id, e);
      return std::unexpected(e);
    }
    return changes;
  };
  const auto pullStarted = std::chrono::steady_clock::now();
  auto sourceChanges = pull(source, *sourceCal);
  if (!sourceChanges) return std::unexpected(sourceChanges.error());
  auto targetChanges = pull(target, *targetCal);
  if (!targetChanges) return std::unexpected(targetChanges.error());
  report.pullSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - pullStarted).count();
  Side a{source, *sourceCal, std::move(*sourceChanges)};
  Side b{target, *targetCal, std::move(*targetChanges)};

  Deps deps{mappings, pairs, audit, orgPolicies_, clock_, options_, observer_};
  if (auto ok = DirectionRun(deps, *pair, a, b, report).execute(); !ok) return std::unexpected(ok.error());
  if (!report.paused && pair->direction == Direction::TwoWay) {
    if (auto ok = DirectionRun(deps, *pair, b, a, report).execute(); !ok) return std::unexpected(ok.error());
  }
  if (report.paused) return report;  // cursors stay: the deletions are seen again after confirmation

  // Only now, with every write recorded, may the next run start after these changes.
  if (auto ok = mappings.saveCursor(pair->id, a.calendar.id, cursorKind(a.calendar.provider), a.changes.cursor); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = mappings.saveCursor(pair->id, b.calendar.id, cursorKind(b.calendar.provider), b.changes.cursor); !ok) {
    return std::unexpected(ok.error());
  }
  if (pair->deletionsConfirmedAt) {
    if (auto ok = pairs.clearConfirmation(pair->id); !ok) return std::unexpected(ok.error());
  }
  if (rerender) {
    if (auto ok = pairs.setPolicyFingerprint(pair->id, fingerprint); !ok) return std::unexpected(ok.error());
  }
  if (auto ok = pairs.recordSuccess(pair->id); !ok) return std::unexpected(ok.error());
  if (report.writes() > 0 || report.denied > 0) {
    audit::AuditEntry e;
    e.userId = pair->userId;
    e.action = "sync.run";
    e.objectRef = "pair/" + pair->id;
    e.decision = "done";
    e.facts = {{"created", std::to_string(report.created)},     {"updated", std::to_string(report.updated)},
               {"deleted", std::to_string(report.deleted)},     {"restored", std::to_string(report.restored)},
               {"unchanged", std::to_string(report.unchanged)}, {"denied", std::to_string(report.denied)}};
    if (auto ok = audit.append(e); !ok) return std::unexpected(ok.error());
  }
  return report;
}

}  // namespace calgate::sync
