#include "calgate/sync/sync_engine.hpp"

#include "calgate/audit/audit_log.hpp"
#include "calgate/core/hash.hpp"
#include "calgate/policy/content_hash.hpp"
#include "calgate/policy/evaluator.hpp"
#include "calgate/policy/org_policy_source.hpp"
#include "calgate/sync/calendar_store.hpp"
#include "calgate/sync/mapping_store.hpp"
#include "calgate/sync/pair_store.hpp"
#include "calgate/sync/shared_pulls.hpp"

#include "applier.hpp"
#include "pair_read.hpp"
#include "planner.hpp"

#include <algorithm>
#include <limits>
#include <set>
#include <chrono>
#include <memory>
#include <array>

namespace calgate::sync {

using core::ErrorCode;

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
std::string policyFingerprint(const SyncPair& pair, const std::vector<policy::OrgPolicy>& source,
                              const std::vector<policy::OrgPolicy>& target, const CalendarRef& sourceCal,
                              const CalendarRef& targetCal) {
  // The window too: a wider window must list the source completely to find what it now covers.
  // And where each side is proven to be inside: a target that proves a new membership is admitted.
  std::string text = rulesToJson(pair.rules);
  for (const auto* side : {&source, &target}) {
    text += "\n";
    for (const auto& org : *side) text += describeOrg(org) + ";";
  }
  for (const auto* cal : {&sourceCal, &targetCal}) {
    text += "\n";
    for (const auto& d : model::memberDomains(cal->identities)) text += d + ";";
  }
  return core::sha256Hex(text + "\n" + std::to_string(pair.windowPastDays) + "/" + std::to_string(pair.windowFutureDays));
}

/// A pair's mappings by the calendar their sources are in: [0] the source calendar's (the copies in
/// the target), [1] the target's (a two-way pair's copies in the source).
using SideMappings = std::array<std::shared_ptr<const std::vector<Mapping>>, 2>;

/// The versions of the pair's copies in a calendar as recorded after writing them: a listing that
/// shows one at that version need not read it (Provider::pullChanges).
providers::KnownVersions copiesIn(const std::vector<Mapping>& writtenThere) {
  providers::KnownVersions out;
  for (const auto& m : writtenThere) {
    if (m.state == MappingState::Synced && !m.targetEventId.empty() && !m.targetEtag.empty()) {
      out.emplace(m.targetEventId, m.targetEtag);
    }
  }
  return out;
}

/// The calendars of a run and what their pulls returned (perhaps another run's pull: shared).
struct Pulled {
  CalendarRef calendar;
  providers::Provider* provider;
  std::shared_ptr<const providers::ChangeSet> changeSet;
  std::string nextCursor;  ///< where the pair's next pull of it starts
  long long beganMs = 0;   ///< when the listing was taken (a shared one: when its pull began)
  const providers::ChangeSet& changes() const { return *changeSet; }
};

struct PullContext {
  store::Database& db;
  const core::Clock& clock;
  SharedPulls* shared;
  std::optional<long long> requestedAtMs;
  bool recordPullFailure;
};

/// `cal` pulled from the pair's cursor (none: a complete listing), with the versions of the
/// pair's copies in it (`writtenThere`: the mappings whose copies are there). Through the shared
/// pulls when the run has them: another run's pull begun after this run's request serves; a
/// complete listing of its own may continue from the shared pulls' cursor (SharedPulls::adoptable).
core::Result<Pulled> pullCalendar(const PullContext& c, const SyncPair& pair, providers::Provider& p,
                                  const CalendarRef& cal, const std::vector<Mapping>& writtenThere,
                                  const PairPlan& plan) {
  auto cursor = MappingStore(c.db, c.clock).cursor(pair.id, cal.id);
  if (!cursor) return std::unexpected(cursor.error());
  const auto known = copiesIn(writtenThere);
  const PullKey key{cal.id, plan.completeListings ? std::string() : *cursor, pair.windowPastDays,
                    pair.windowFutureDays, c.shared ? knownDigest(known) : std::string()};
  const long long began =
      std::chrono::duration_cast<std::chrono::milliseconds>(c.clock.now().time_since_epoch()).count();
  const SharedPulls::Pull pull = [&] { return p.pullChanges(cal.providerCalendarId, key.cursor, plan.window, known); };
  auto pulled = c.shared ? c.shared->get(key, c.requestedAtMs.value_or(std::numeric_limits<long long>::max()), pull)
                         : [&]() -> core::Result<SharedPulls::Pulled> {
                             auto changes = pull();
                             if (!changes) return std::unexpected(changes.error());
                             return SharedPulls::Pulled{std::make_shared<const providers::ChangeSet>(std::move(*changes)),
                                                        true, began};
                           }();
  if (!pulled) {
    auto e = pulled.error();
    e.message = "pull of " + cal.id + ": " + e.message;
    e.cause = core::Cause::PullFailed;
    if (c.recordPullFailure) (void)PairStore(c.db, c.clock).recordFailure(pair.id, e);
    return std::unexpected(e);
  }
  Pulled out{cal, &p, pulled->changes, pulled->changes->cursor, pulled->beganMs};
  // a complete listing covers everything up to its start: it may continue where the pairs that
  // share this calendar's pulls are, and share from then on
  if (c.shared && pulled->own && key.cursor.empty()) {
    if (auto shared = c.shared->adoptable(key, pulled->beganMs)) out.nextCursor = *shared;
  }
  return out;
}

/// One direction's inputs, with the source reads its planner asked for, and that planner (its
/// first plan is made from the same inputs; a second, pure, when the guard holds the plan).
struct DirectionInputs {
  std::unique_ptr<detail::PlanInput> input;
  detail::SourceReads reads;
  std::unique_ptr<detail::DirectionPlanner> planner;
  std::vector<FailingEvent> failing;
};

/// Reads `ids` of a pulled calendar one by one into `into`: the resource now, nullopt when the
/// server says it is gone; any other error stops. Ids already in `into` are not read again.
core::Result<void> readEach(const Pulled& side, const std::set<std::string>& ids, detail::SourceReads& into) {
  for (const auto& id : ids) {
    if (into.count(id)) continue;
    auto current = side.provider->getEvent(side.calendar.providerCalendarId, id);
    if (!current && current.error().code != ErrorCode::NotFound) return std::unexpected(current.error());
    into[id] = current ? std::optional(std::move(*current)) : std::nullopt;
  }
  return {};
}

core::Result<SideMappings> loadSides(MappingStore& mappings, const std::string& pairId, const CalendarRef& source,
                                     const CalendarRef& target) {
  SideMappings maps;
  for (std::size_t i = 0; i < 2; ++i) {
    auto loaded = mappings.load(pairId, i == 0 ? source.id : target.id);
    if (!loaded) return std::unexpected(loaded.error());
    maps[i] = std::make_shared<const std::vector<Mapping>>(std::move(*loaded));
  }
  return maps;
}

core::Result<DirectionInputs> prepareDirection(MappingStore& mappings, FailureStore& failures, const SyncPair& pair,
                                               const Pulled& from, const Pulled& to,
                                               std::shared_ptr<const std::vector<Mapping>> own,
                                               const std::vector<Mapping>& opposite, detail::PlanInput in) {
  auto failing = failures.ofCalendar(pair.id, from.calendar.id);
  if (!failing) return std::unexpected(failing.error());
  for (const auto& f : *failing) {
    if (f.nextRetryAt <= in.now) in.retry.insert(f.sourceEventId);  // due for another try
  }
  in.pair = &pair;
  in.from = from.calendar;
  in.to = to.calendar;
  in.fromChanges = &from.changes();
  in.toChanges = &to.changes();
  in.mappings = std::move(own);
  auto takenAt = mappings.cursorTakenAt(pair.id, to.calendar.id);
  if (!takenAt) return std::unexpected(takenAt.error());
  in.toCursorTakenAt = *takenAt;
  in.replacesOnUpdate = [target = to.provider, calendar = to.calendar.providerCalendarId](const std::string& copyId,
                                                                                         const policy::ApprovedWrite& write) {
    return target->replacesOnUpdate(calendar, copyId, write);
  };
  in.holdsSeries = [target = to.provider, calendar = to.calendar.providerCalendarId](const policy::ApprovedWrite& write) {
    return target->holdsSeries(calendar, write);
  };
  if (auto ok = readEach(to, detail::DirectionPlanner::copiesToVerify(in), in.verified); !ok) {
    return std::unexpected(ok.error());
  }
  // Two-way: the other direction's copies live in our source. They carry the origin marker, but
  // some clients drop unknown properties when a user edits an event: know them by id as well.
  for (const auto& m : opposite) {
    if (!m.targetEventId.empty()) in.oppositeCopies.insert(m.targetEventId);
  }
  DirectionInputs out{std::make_unique<detail::PlanInput>(std::move(in)), {}, nullptr, std::move(*failing)};
  out.planner = std::make_unique<detail::DirectionPlanner>(*out.input);
  // "Does it still exist?": asked before planning, so the planner stays pure.
  if (auto ok = readEach(from, out.planner->readsNeeded(), out.reads); !ok) return std::unexpected(ok.error());
  return out;
}

/// Plans every direction; `holdGuarded`: again, with the guarded deletions left out.
core::Result<std::vector<DirectionPlan>> planAll(std::vector<DirectionInputs>& directions, bool holdGuarded) {
  std::vector<DirectionPlan> out;
  for (auto& d : directions) {
    d.input->holdGuarded = holdGuarded;
    if (holdGuarded) d.planner = std::make_unique<detail::DirectionPlanner>(*d.input);
    auto plan = d.planner->plan(d.reads);
    if (!plan) return std::unexpected(plan.error());
    plan->failing = d.failing;
    out.push_back(std::move(*plan));
  }
  return out;
}

/// Copies a plan would rewrite that the listing showed unchanged and so were not read
/// (DirectionPlan::copiesToRead): read now and planned again, which spares the writes of copies
/// that hold the write already. Whether anything was read.
core::Result<bool> readBackCopies(std::vector<DirectionInputs>& inputs, const std::vector<DirectionPlan>& plans,
                                  std::array<const Pulled*, 2> sides) {
  bool any = false;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (plans[i].copiesToRead.empty()) continue;
    if (auto ok = readEach(*sides[1 - i], plans[i].copiesToRead, inputs[i].input->verified); !ok) {
      return std::unexpected(ok.error());
    }
    any = true;
  }
  if (!any) return false;
  // a planner plans once: every direction is planned anew, with the source reads it now asks for
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    auto& d = inputs[i];
    d.planner = std::make_unique<detail::DirectionPlanner>(*d.input);
    if (auto ok = readEach(*sides[i], d.planner->readsNeeded(), d.reads); !ok) return std::unexpected(ok.error());
  }
  return true;
}

/// Everything after the pulls: the reads, the plan of every direction, the guard's verdict, and
/// (when it holds the plan) the plan with the guarded deletions left out.
core::Result<void> decide(PairPlan& out, const SyncPair& pair, MappingStore& mappings, FailureStore& failures,
                          std::array<const Pulled*, 2> sides, const SideMappings& maps,
                          std::array<std::vector<policy::OrgPolicy>, 2> orgs, long long now,
                          const SyncOptions& options) {
  detail::PlanInput common;
  common.now = now;
  common.restoreDeletedCopies = options.restoreDeletedCopies;
  if (options.hasher) common.hasher = options.hasher;
  common.rerender = out.rerender;
  std::vector<DirectionInputs> inputs;
  for (std::size_t i = 0; i < (pair.direction == Direction::TwoWay ? 2u : 1u); ++i) {
    common.orgs = orgs[i];
    auto prepared = prepareDirection(mappings, failures, pair, *sides[i], *sides[1 - i], maps[i], *maps[1 - i], common);
    if (!prepared) return std::unexpected(prepared.error());
    inputs.push_back(std::move(*prepared));
  }
  auto planned = planAll(inputs, false);
  if (!planned) return std::unexpected(planned.error());
  auto reread = readBackCopies(inputs, *planned, sides);
  if (!reread) return std::unexpected(reread.error());
  if (*reread) planned = planAll(inputs, false);
  if (!planned) return std::unexpected(planned.error());
  out.directions = std::move(*planned);
  out.guard = detail::judge(out.directions, pair.id, options.massDeleteShare, options.massDeleteMinimum);
  out.confirmed = detail::covers(pair.confirmedDeletions, out.guard.deletionIds);
  if (!out.held()) return {};
  auto held = planAll(inputs, true);
  if (!held) return std::unexpected(held.error());
  out.whileHeld = std::move(*held);
  return {};
}

// The provider writes a plan's steps make (a step that only records writes nothing).
std::size_t plannedWrites(const std::vector<DirectionPlan>& directions) {
  std::size_t n = 0;
  for (const auto& d : directions) {
    n += static_cast<std::size_t>(std::count_if(d.steps.begin(), d.steps.end(), [](const PlanStep& s) { return s.op != WriteOp::None; }));
  }
  return n;
}

/// Tells the shared pulls, once a run's writes are over or stopped, which calendars it planned to
/// write into: a pull of them begun before serves no run after (SharedPulls::wrote).
class WritesAnnounced {
 public:
  WritesAnnounced(SharedPulls* shared, const std::vector<DirectionPlan>& directions) : shared_(shared) {
    for (const auto& d : directions) {
      const bool writes = std::any_of(d.steps.begin(), d.steps.end(), [](const PlanStep& s) { return s.op != WriteOp::None; });
      if (shared_ && writes) calendars_.push_back(d.to.id);
    }
  }
  ~WritesAnnounced() {
    for (const auto& id : calendars_) shared_->wrote(id);
  }
  WritesAnnounced(const WritesAnnounced&) = delete;
  WritesAnnounced& operator=(const WritesAnnounced&) = delete;

 private:
  SharedPulls* shared_;
  std::vector<std::string> calendars_;
};

audit::AuditEntry guardEntry(const SyncPair& pair, const std::string& decision, std::vector<std::string> reasons,
                             const std::string& digest) {
  audit::AuditEntry e;
  e.userId = pair.userId;
  e.action = "sync.guard";
  e.objectRef = "pair/" + pair.id;
  e.decision = decision;
  e.reasons = std::move(reasons);
  if (!digest.empty()) e.facts["deletions"] = digest;
  return e;
}

}  // namespace

SyncOptions syncOptionsFrom(const SyncConfig& config) {
  SyncOptions options;
  options.massDeleteShare = config.massDeletePercent / 100.0;
  options.massDeleteMinimum = config.massDeleteMinimum;
  options.restoreDeletedCopies = config.restoreDeletedCopies;
  return options;
}

long long unixOf(const model::EventTime& t) {
  if (const auto* d = std::get_if<model::Date>(&t)) {
    return std::chrono::sys_days(d->day).time_since_epoch().count() * kDay;
  }
  if (const auto* z = std::get_if<model::ZonedTime>(&t)) return z->instant.time_since_epoch().count();
  // floating: read as UTC; good enough to place it in a window measured in days
  return std::get<model::FloatingTime>(t).local.time_since_epoch().count();
}

std::vector<policy::OrgPolicy> organisationPolicies(policy::OrgPolicySource& source, const CalendarRef& calendar) {
  std::vector<policy::OrgPolicy> out;
  for (const auto& domain : model::policyDomains(calendar.identities)) out.push_back(source.policyFor(domain));
  return out;
}

policy::WriteContext writeContext(const SyncPair& pair, const CalendarRef& from, const CalendarRef& to,
                                  const std::string& eventId, const std::string& recurrenceId) {
  policy::WriteContext c;
  c.pairId = pair.id;
  c.copySeed = pair.copySeed;
  c.targetCalendar = to.providerCalendarId;
  c.sourceKey = sourceKey(from.id, eventId, recurrenceId);
  if (!recurrenceId.empty()) c.seriesKey = sourceKey(from.id, eventId, "");
  c.targetProvider = to.provider;
  c.targetDomains = model::memberDomains(to.identities);
  c.targetZone = to.timeZone.empty() ? "UTC" : to.timeZone;
  return c;
}

std::string sourceKey(std::string_view calendarId, std::string_view eventId, std::string_view recurrenceId) {
  std::string out;
  out.reserve(calendarId.size() + eventId.size() + recurrenceId.size() + 2);
  out.append(calendarId).append("|").append(eventId).append("|").append(recurrenceId);
  return out;
}

std::string recurrenceKey(const model::Event& event) {
  if (!event.recurrenceId) return {};
  const auto& t = *event.recurrenceId;
  if (const auto* d = std::get_if<model::Date>(&t)) return "D" + model::formatDate(d->day);
  if (const auto* z = std::get_if<model::ZonedTime>(&t)) return "Z" + model::formatUtc(z->instant);
  return "L" + model::formatLocal(std::get<model::FloatingTime>(t).local);
}

SyncEngine::SyncEngine(store::Database& db, policy::OrgPolicySource& orgPolicies, const core::Clock& clock,
                       SyncOptions options)
    : db_(db), orgPolicies_(orgPolicies), clock_(clock), options_(std::move(options)) {}

core::Result<PairPlan> SyncEngine::planPair(const std::string& pairId, providers::Provider& source,
                                            providers::Provider& target, PlanScope scope) {
  auto read = detail::readPair(db_, clock_, pairId);
  if (!read) return std::unexpected(read.error());
  return plan(read->pair, read->source, read->target, source, target, scope, false);
}

core::Result<PairPlan> SyncEngine::plan(const SyncPair& pair, const CalendarRef& sourceCal,
                                        const CalendarRef& targetCal, providers::Provider& source,
                                        providers::Provider& target, PlanScope scope, bool recordPullFailure) {
  MappingStore mappings(db_, clock_);
  const long long now = clock_.nowUnixSeconds();
  PairPlan out;
  out.pairId = pair.id;
  out.pulledAt = now;
  out.window = providers::TimeWindow::around(std::chrono::sys_seconds(std::chrono::seconds(now)), pair.windowPastDays,
                                             pair.windowFutureDays);
  // Copies rendered under other rules or organisation policies are re-rendered: list everything.
  const auto sourceOrg = organisationPolicies(orgPolicies_, sourceCal);
  const auto targetOrg = organisationPolicies(orgPolicies_, targetCal);
  out.fingerprint = policyFingerprint(pair, sourceOrg, targetOrg, sourceCal, targetCal);
  out.rerender = out.fingerprint != pair.policyFingerprint;
  // A cursor some server cannot continue from without saying so (Xandikos answers an unknown
  // token with a plain 500) would fail every run: after a run that failed pulling, the next one
  // starts over with a complete listing.
  out.completeListings =
      out.rerender || pair.lastErrorCause == core::Cause::PullFailed || scope == PlanScope::Everything;
  auto maps = loadSides(mappings, pair.id, sourceCal, targetCal);
  if (!maps) return std::unexpected(maps.error());
  const PullContext context{db_, clock_, shared_, requestedAtMs_, recordPullFailure};
  const auto started = std::chrono::steady_clock::now();
  auto a = pullCalendar(context, pair, source, sourceCal, *(*maps)[1], out);
  if (!a) return std::unexpected(a.error());
  auto b = pullCalendar(context, pair, target, targetCal, *(*maps)[0], out);
  if (!b) return std::unexpected(b.error());
  out.sourceCursor = a->nextCursor;
  out.targetCursor = b->nextCursor;
  // a shared listing was taken when its pull began: copies written after that are checked
  out.pulledAt = std::min({now, a->beganMs / 1000, b->beganMs / 1000});
  const auto pulled = std::chrono::steady_clock::now();
  FailureStore failures(db_, clock_);
  if (auto ok = decide(out, pair, mappings, failures, {&*a, &*b}, *maps, {sourceOrg, targetOrg}, now, options_); !ok) {
    return std::unexpected(ok.error());
  }
  out.pullSeconds = std::chrono::duration<double>(pulled - started).count();
  return out;
}

core::Result<SyncReport> SyncEngine::syncPair(const std::string& pairId, providers::Provider& source,
                                              providers::Provider& target, const RunFence& fence) {
  auto read = detail::readPair(db_, clock_, pairId);
  if (!read) return std::unexpected(read.error());
  return syncPair(read->pair, read->source, read->target, source, target, fence);
}

core::Result<SyncReport> SyncEngine::syncPair(const SyncPair& pair, const CalendarRef& sourceCal,
                                              const CalendarRef& targetCal, providers::Provider& source,
                                              providers::Provider& target, const RunFence& fence) {
  SyncReport report;
  // a job queued before the user was suspended or an account lost its authorisation
  if (!pair.enabled || pair.ownerSuspended || pair.accountNeedsReauth) {
    report.skipped = true;
    return report;
  }
  if (progress_) progress_("pulling", 0);
  auto plan = this->plan(pair, sourceCal, targetCal, source, target, PlanScope::NextRun, true);
  if (!plan) return std::unexpected(plan.error());
  report.pullSeconds = plan->pullSeconds;
  // Held: the pause is recorded first, then only what the policy requires runs (leaving full
  // content in place is worse than a deletion); everything else waits, cursors included.
  if (fence) {
    if (auto held = fence(); !held) return std::unexpected(held.error());
  }
  if (auto ok = settleGuard(pair, *plan); !ok) return std::unexpected(ok.error());
  MappingStore mappings(db_, clock_);
  SkipStore skips(db_, clock_);
  FailureStore failures(db_, clock_);
  const detail::ApplyContext context{mappings, skips, failures, pair, options_, observer_, fence};
  const auto& directions = plan->held() ? plan->whileHeld : plan->directions;
  if (progress_) progress_("writing", plannedWrites(directions));
  const WritesAnnounced announced(shared_, directions);
  std::vector<providers::Provider*> targets = {&target, &source};
  for (std::size_t i = 0; i < directions.size(); ++i) {
    if (auto ok = detail::applyDirection(context, directions[i], *targets[i], plan->held(), report); !ok) {
      return std::unexpected(ok.error());
    }
  }
  if (plan->held()) {
    report.paused = true;
    return report;
  }
  for (const auto& d : plan->directions) {
    if (auto ok = detail::settleSkipped(context, d); !ok) return std::unexpected(ok.error());
    if (auto ok = detail::settleFailures(context, d, report); !ok) return std::unexpected(ok.error());
  }
  if (auto ok = finish(pair, *plan, report, fence); !ok) return std::unexpected(ok.error());
  return report;
}

// Pauses a pair whose plan the guard holds (again, when it holds other deletions than before),
// and resumes a paused pair whose held deletions went away.
core::Result<void> SyncEngine::settleGuard(const SyncPair& pair, const PairPlan& plan) {
  PairStore pairs(db_, clock_);
  audit::AuditLog audit(db_, clock_);
  if (plan.held()) {
    if (pair.needsConfirmation && pair.guardDeletions == plan.guard.deletionIds) return {};
    if (auto p = pairs.pause(pair.id, plan.guard.reason, plan.guard.deletionIds); !p) return p;
    return audit.append(guardEntry(pair, "paused",
                                   {plan.guard.reason, "held deletions wait for the user to confirm; what the "
                                                       "policy requires ran"},
                                   plan.guard.deletionsHash));
  }
  if (!pair.needsConfirmation) return {};
  if (auto r = pairs.resume(pair.id); !r) return r;
  return audit.append(guardEntry(pair, "resumed", {"the deletions the guard held are no longer planned"}, {}));
}

// After every step is applied: the cursors move on, a used confirmation is spent, the pair's
// fingerprint and success are recorded.
core::Result<void> SyncEngine::finish(const SyncPair& pair, const PairPlan& plan, const SyncReport& report,
                                      const RunFence& fence) {
  PairStore pairs(db_, clock_);
  MappingStore mappings(db_, clock_);
  if (fence) {
    if (auto held = fence(); !held) return held;
  }
  // Only now, with every write recorded, may the next run start after these changes.
  const DirectionPlan& forward = plan.directions.front();
  for (const auto* calendar : {&forward.from, &forward.to}) {
    const std::string& cursor = calendar == &forward.from ? plan.sourceCursor : plan.targetCursor;
    if (auto ok = mappings.saveCursor(pair.id, calendar->id, cursorKind(calendar->provider), cursor, plan.pulledAt);
        !ok) {
      return ok;
    }
  }
  if (pair.deletionsConfirmedAt || !pair.confirmedDeletions.empty()) {
    if (auto ok = pairs.clearConfirmation(pair.id); !ok) return ok;
  }
  if (plan.rerender) {
    if (auto ok = pairs.setPolicyFingerprint(pair.id, plan.fingerprint); !ok) return ok;
  }
  if (auto ok = pairs.recordSuccess(pair.id); !ok) return ok;
  if (report.writes() == 0 && report.denied == 0) return {};
  audit::AuditEntry e;
  e.userId = pair.userId;
  e.action = "sync.run";
  e.objectRef = "pair/" + pair.id;
  e.decision = "done";
  e.facts = {{"created", std::to_string(report.created)},     {"updated", std::to_string(report.updated)},
             {"deleted", std::to_string(report.deleted)},     {"restored", std::to_string(report.restored)},
             {"unchanged", std::to_string(report.unchanged)}, {"denied", std::to_string(report.denied)}};
  return audit::AuditLog(db_, clock_).append(e);
}

}  // namespace calgate::sync
