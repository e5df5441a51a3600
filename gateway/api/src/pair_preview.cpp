#include "pair_preview.hpp"

#include "calgate/core/log.hpp"
#include "calgate/policy/content_hash.hpp"
#include "calgate/policy/evaluator.hpp"
#include "calgate/policy/org_policy_source.hpp"
#include "calgate/sync/mapping_store.hpp"
#include "calgate/sync/sync_engine.hpp"
#include "calgate/sync/sync_service.hpp"

#include <algorithm>
#include <map>

namespace calgate::api {
namespace {

std::string timeText(const model::EventTime& t) {
  if (const auto* d = std::get_if<model::Date>(&t)) return model::formatDate(d->day);
  if (const auto* z = std::get_if<model::ZonedTime>(&t)) return model::formatUtc(z->instant);
  return model::formatLocal(std::get<model::FloatingTime>(t).local);
}

nlohmann::json writeJson(const model::Event& e) {
  return {{"title", e.title},
          {"description", e.description},
          {"location", e.location},
          {"show_as", model::toString(e.showAs)},
          {"sensitivity", model::toString(e.sensitivity)},
          {"status", model::toString(e.status)},
          {"recurrence", e.recurrence},
          {"attendees", e.attendees.size()}};
}

}  // namespace

http::Response previewPair(Services& services, const http::Request& request, const sync::SyncPair& pair,
                           std::size_t limit) {
  sync::CalendarStore calendars(*services.db, *services.clock);
  auto source = calendars.get(pair.sourceCalendarId);
  if (!source) return failure(source.error(), request);
  auto target = calendars.get(pair.targetCalendarId);
  if (!target) return failure(target.error(), request);

  const long long now = services.clock->nowUnixSeconds();
  const auto window = providers::TimeWindow::around(std::chrono::sys_seconds(std::chrono::seconds(now)),
                                                    pair.windowPastDays, pair.windowFutureDays);
  auto sourceUnavailable = [&](const core::Error& e) {
    core::log::warn("api.preview_source_failed",
                    {{"request_id", request.requestId}, {"pair_id", pair.id}, {"error", e.message}});
    return http::problem(502, "source-unavailable", "Bad Gateway",
                         "the source calendar could not be read: " + std::string(core::errorCodeName(e.code)));
  };
  auto provider = services.providers->open(*source);
  if (!provider) return sourceUnavailable(provider.error());
  auto changes = (*provider)->pullChanges(source->providerCalendarId, "", window);
  if (!changes) return sourceUnavailable(changes.error());

  auto mappings = sync::MappingStore(*services.db, *services.clock).load(pair.id, source->id);
  if (!mappings) return failure(mappings.error(), request);
  std::map<std::pair<std::string, std::string>, const sync::Mapping*> byKey;
  for (const auto& m : *mappings) byKey[{m.sourceEventId, m.sourceRecurrenceId}] = &m;

  const policy::OrgPolicy org = services.orgPolicies->policyFor(source->accountDomain);
  policy::Evaluator evaluator;

  // The next events: those not yet over (series count while they may still recur), by start.
  std::vector<const model::Event*> upcoming;
  for (const auto& e : changes->changed) {
    if (e.origin) continue;  // calgate's own copies are never mirrored
    if ((e.recurrence.empty() || e.recurrenceId) && sync::unixOf(e.end) <= now) continue;
    upcoming.push_back(&e);
  }
  std::stable_sort(upcoming.begin(), upcoming.end(), [](const auto* a, const auto* b) {
    return sync::unixOf(a->start) < sync::unixOf(b->start);
  });
  if (upcoming.size() > limit) upcoming.resize(limit);

  nlohmann::json items = nlohmann::json::array();
  for (const auto* e : upcoming) {
    const std::string rid = sync::recurrenceKey(*e);
    const auto decision =
        evaluator.evaluate(pair.rules, org, *e, sync::writeContext(pair.id, *source, *target, e->id, rid));

    std::string action;
    const auto found = byKey.find({e->id, rid});
    const sync::Mapping* m = found == byKey.end() ? nullptr : found->second;
    nlohmann::json write = nullptr;
    if (!decision.write) {
      action = "deny";
    } else if (decision.write->action() == policy::ApprovedWrite::Action::Delete) {
      action = "delete";
    } else {
      write = writeJson(decision.write->event());
      const bool live = m && m->state == sync::MappingState::Synced;
      if (!live) action = "create";
      else if (m->contentSha256 == policy::contentHash(*decision.write)) action = "unchanged";
      else action = "update";
    }
    items.push_back({{"source_event_id", e->id},
                     {"recurrence_id", e->recurrenceId ? nlohmann::json(timeText(*e->recurrenceId)) : nlohmann::json(nullptr)},
                     {"start", timeText(e->start)},
                     {"end", timeText(e->end)},
                     {"all_day", e->allDay()},
                     {"recurring", !e->recurrence.empty()},
                     {"action", action},
                     {"mode", policy::toString(decision.mode)},
                     {"reasons", decision.reasons},
                     {"write", write}});
  }
  nlohmann::json body = {
      {"pair_id", pair.id},
      {"generated_at", now},
      {"window",
       {{"from", window.from.time_since_epoch().count()}, {"to", window.to.time_since_epoch().count()}}},
      {"org_policy",
       {{"domain", org.domain},
        {"level", policy::toString(org.level)},
        {"validation", validationName(org.validation)},
        {"pinned", org.pinned},
        {"reasons", org.reasons}}},
      {"items", items}};
  return jsonResponse(200, body);
}

}  // namespace calgate::api
