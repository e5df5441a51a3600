#include "pair_preview.hpp"

#include "calgate/core/log.hpp"
#include "calgate/policy/org_policy_source.hpp"
#include "calgate/sync/sync_service.hpp"

#include <map>

namespace calgate::api {
namespace {

std::string timeText(long long unix, bool allDay) {
  const std::chrono::sys_seconds t{std::chrono::seconds(unix)};
  if (allDay) return model::formatDate(std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(t)));
  return model::formatUtc(t);
}

nlohmann::json writeJson(const sync::PlanStep& s) {
  if (!s.write || s.write->action() != policy::ApprovedWrite::Action::Upsert) return nullptr;
  const model::Event& e = s.write->event();
  return {{"title", e.title},
          {"description", e.description},
          {"location", e.location},
          {"show_as", model::toString(e.showAs)},
          {"sensitivity", model::toString(e.sensitivity)},
          {"status", model::toString(e.status)},
          {"recurrence", e.recurrence},
          {"attendees", e.attendees.size()}};
}

nlohmann::json stepJson(const sync::PairPlan& plan, const sync::DirectionPlan& d, const sync::PlanStep& s) {
  // recurrence keys are "Z<utc>", "D<date>" or "L<local>": the time after the tag
  const nlohmann::json rid = s.recurrenceId.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.recurrenceId.substr(1));
  return {{"direction", &d == &plan.directions.front() ? "source_to_target" : "target_to_source"},
          {"source_event_id", s.eventId},
          {"recurrence_id", rid},
          {"start", timeText(s.startAt, s.allDay)},
          {"end", timeText(s.endAt, s.allDay)},
          {"all_day", s.allDay},
          {"recurring", s.recurring},
          {"action", sync::toString(s.kind)},
          {"cause", s.cause == sync::StepCause::None ? nlohmann::json(nullptr) : nlohmann::json(sync::toString(s.cause))},
          {"provider_call", sync::toString(s.op)},
          {"runs_now", !plan.held() || s.cause == sync::StepCause::PolicyRequired},
          {"held_by_guard", plan.guard.trips && s.guarded()},
          {"mode", policy::toString(s.mode)},
          {"reasons", s.reasons},
          {"write", writeJson(s)}};
}

nlohmann::json guardJson(const sync::PairPlan& plan) {
  auto nullable = [](const std::string& t) { return t.empty() ? nlohmann::json(nullptr) : nlohmann::json(t); };
  return {{"trips", plan.guard.trips},
          {"confirmed", plan.confirmed},
          {"holds", plan.held()},
          {"held_deletions", plan.guard.held},
          {"digest", nullable(plan.guard.deletionsHash)},
          {"reason", nullable(plan.guard.reason)}};
}

// Events whose copy a target refused before: those due are retried by this plan (their steps are
// among the items), the others wait for their next try.
nlohmann::json failingOf(const sync::PairPlan& plan) {
  std::vector<sync::FailingEvent> all;
  for (const auto& d : plan.directions) all.insert(all.end(), d.failing.begin(), d.failing.end());
  return failingJson(all);
}

nlohmann::json orgPolicyJson(const policy::OrgPolicy& org) {
  return {{"domain", org.domain},
          {"level", policy::toString(org.level)},
          {"validation", validationName(org.validation)},
          {"pinned", org.pinned},
          {"reasons", org.reasons}};
}

nlohmann::json planJson(const sync::PairPlan& plan, std::size_t limit, long long now, std::string_view scope) {
  nlohmann::json items = nlohmann::json::array();
  std::map<std::string, std::size_t> counts;
  for (const auto& d : plan.directions) {
    for (const auto& s : d.steps) {
      ++counts[std::string(sync::toString(s.kind))];
      if (items.size() < limit) items.push_back(stepJson(plan, d, s));
    }
  }
  const auto& first = plan.directions.front();
  nlohmann::json policies = nlohmann::json::array();
  const policy::OrgPolicy* strictest = nullptr;
  for (const auto& org : first.orgs) {
    policies.push_back(orgPolicyJson(org));
    if (!strictest || org.level > strictest->level) strictest = &org;
  }
  const policy::OrgPolicy none = policy::OrgPolicy::none("");
  return {{"pair_id", plan.pairId},
          {"generated_at", now},
          {"scope", scope},
          {"complete_listings", plan.completeListings},
          {"window",
           {{"from", plan.window.from.time_since_epoch().count()}, {"to", plan.window.to.time_since_epoch().count()}}},
          {"org_policy", orgPolicyJson(strictest ? *strictest : none)},
          {"org_policies", policies},
          {"domains",
           {{"source", model::policyDomains(first.from.identities)},
            {"target_inside", model::memberDomains(first.to.identities)}}},
          {"guard", guardJson(plan)},
          {"failing", failingOf(plan)},
          {"counts", counts},
          {"items", items}};
}

}  // namespace

http::Response previewPair(Services& services, const http::Request& request, const sync::SyncPair& pair,
                           std::size_t limit, sync::PlanScope scope) {
  sync::CalendarStore calendars(*services.db, *services.clock);
  auto source = calendars.get(pair.sourceCalendarId);
  if (!source) return failure(source.error(), request);
  auto target = calendars.get(pair.targetCalendarId);
  if (!target) return failure(target.error(), request);
  auto unavailable = [&](const core::Error& e) {
    core::log::warn("api.preview_calendar_failed",
                    {{"request_id", request.requestId}, {"pair_id", pair.id}, {"error", e.message}});
    if (e.cause == core::Cause::BudgetExceeded) {
      http::Response r = http::problem(503, "calendar-too-slow", "Service Unavailable",
                                       "a calendar of the pair answers too slowly for a preview; try again later");
      r.headers.emplace_back("Retry-After", "30");
      return r;
    }
    return http::problem(502, "calendar-unavailable", "Bad Gateway",
                         "a calendar of the pair could not be read: " + std::string(core::errorCodeName(e.code)));
  };
  const auto deadline = std::chrono::steady_clock::now() + services.outboundBudget;
  auto sourceProvider = services.providers->open(*source, deadline);
  if (!sourceProvider) return unavailable(sourceProvider.error());
  auto targetProvider = services.providers->open(*target, deadline);
  if (!targetProvider) return unavailable(targetProvider.error());
  sync::SyncEngine engine(*services.db, *services.orgPolicies, *services.clock,
                          services.syncOptions ? *services.syncOptions : sync::SyncOptions{});
  auto plan = engine.planPair(pair.id, **sourceProvider, **targetProvider, scope);
  if (!plan) {
    if (plan.error().code == core::ErrorCode::NotFound) return notFound();
    if (plan.error().code == core::ErrorCode::Internal) return failure(plan.error(), request);
    return unavailable(plan.error());
  }
  return jsonResponse(200, planJson(*plan, limit, services.clock->nowUnixSeconds(),
                                    scope == sync::PlanScope::Everything ? "all" : "next"));
}

}  // namespace calgate::api
