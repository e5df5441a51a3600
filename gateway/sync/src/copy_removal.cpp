// Removing a pair together with its copies: every copy the pair's mappings name is deleted
// through the evaluator's approval of a Delete for a cancelled stand-in of its source (so no write
// happens without an approval, here too), each audited; then the pair goes.
#include "calgate/audit/audit_log.hpp"
#include "calgate/core/log.hpp"
#include "calgate/sync/mapping_store.hpp"
#include "calgate/sync/pair_store.hpp"
#include "calgate/sync/sync_engine.hpp"
#include "pair_read.hpp"

#include <set>

namespace calgate::sync {

namespace {

struct Side {
  const CalendarRef* from;
  const CalendarRef* to;
  providers::Provider* target;
};

audit::AuditEntry removalEntry(const SyncPair& pair, const Mapping& m, bool removed, std::string reason) {
  audit::AuditEntry e;
  e.userId = pair.userId;
  e.action = removed ? "sync.delete" : "sync.write_failed";
  e.objectRef = "pair/" + pair.id;
  e.decision = removed ? "delete" : "failed";
  e.reasons = {std::move(reason)};
  e.facts = {{"cause", "pair_deleted"}, {"source_calendar", m.sourceCalendarId}};
  return e;
}

bool accountOrServer(const core::Error& e) {
  return e.code == core::ErrorCode::Unavailable || e.code == core::ErrorCode::Timeout ||
         e.code == core::ErrorCode::Unauthorized || e.code == core::ErrorCode::RateLimited;
}

// One copy: the evaluator's Delete for a cancelled stand-in of its source, then the removal.
core::Result<bool> removeCopy(const SyncPair& pair, const std::vector<policy::OrgPolicy>& orgs, const Side& side, const Mapping& m,
                              const RunFence& fence, audit::AuditLog& audit) {
  model::Event gone;
  gone.id = m.sourceEventId;
  gone.status = model::Status::Cancelled;
  gone.start = model::ZonedTime{std::chrono::sys_seconds(std::chrono::seconds(m.startAt)), "UTC"};
  gone.end = model::ZonedTime{std::chrono::sys_seconds(std::chrono::seconds(m.endAt)), "UTC"};
  const auto decision = policy::Evaluator{}.evaluate(pair.rules, orgs, gone,
                                                     writeContext(pair, *side.from, *side.to, m.sourceEventId, ""));
  if (!decision.write || decision.write->action() != policy::ApprovedWrite::Action::Delete) {
    return core::fail(core::ErrorCode::Internal, "the evaluator did not approve deleting a copy");
  }
  if (fence) {
    if (auto held = fence(); !held) return std::unexpected(held.error());
  }
  auto removed = side.target->remove(side.to->providerCalendarId, m.targetEventId, m.targetEtag, *decision.write);
  if (!removed && accountOrServer(removed.error())) return std::unexpected(removed.error());  // the job retries
  const auto entry = removed ? removalEntry(pair, m, true, "the pair was deleted with its copies")
                             : removalEntry(pair, m, false, removed.error().message);
  if (auto ok = audit.append(entry); !ok) return std::unexpected(ok.error());
  return removed.has_value();
}

}  // namespace

core::Result<CopyRemoval> SyncEngine::removeCopies(const std::string& pairId, providers::Provider& source,
                                                   providers::Provider& target, const RunFence& fence) {
  auto read = detail::readPair(db_, clock_, pairId);
  if (!read) return std::unexpected(read.error());
  const SyncPair& pair = read->pair;
  std::vector<Side> sides = {{&read->source, &read->target, &target}};
  if (pair.direction == Direction::TwoWay) sides.push_back({&read->target, &read->source, &source});
  MappingStore mappings(db_, clock_);
  audit::AuditLog audit(db_, clock_);
  CopyRemoval out;
  for (const auto& side : sides) {
    auto rows = mappings.load(pair.id, side.from->id);
    if (!rows) return std::unexpected(rows.error());
    std::set<std::string> done;  // a series copy is one resource, however many rows name it
    for (const auto& m : *rows) {
      if (m.state != MappingState::Synced || m.targetEventId.empty() || !done.insert(m.targetEventId).second) continue;
      auto removed = removeCopy(pair, organisationPolicies(orgPolicies_, *side.from), side, m, fence, audit);
      if (!removed) return std::unexpected(removed.error());
      ++(*removed ? out.removed : out.failed);
    }
  }
  core::log::info("sync.pair_copies_removed", {{"pair", pair.id},
                                                {"removed", static_cast<long long>(out.removed)},
                                                {"failed", static_cast<long long>(out.failed)}});
  return out;
}

}  // namespace calgate::sync
