#include "support.hpp"

#include "calgate/core/html.hpp"

#include "calgate/sync/push_channels.hpp"
#include "calgate/sync/push_maintainer.hpp"
#include "calgate/sync/push_metrics.hpp"

#include "calgate/audit/audit_log.hpp"
#include "calgate/core/log.hpp"
#include "calgate/sync/job_queue.hpp"
#include "calgate/sync/mapping_store.hpp"

namespace calgate::api {

using core::ErrorCode;

http::Response notFound() { return http::problem(404, "not-found", "Not Found", "no such resource"); }

http::Response limitReached(std::string_view what, unsigned limit, std::string_view key) {
  return http::problem(409, "limit-reached", "Conflict",
                       "you already have " + std::to_string(limit) + " " + std::string(what) +
                           ", the most this gateway allows (limits." + std::string(key) +
                           "); remove one first or ask the operator");
}

std::optional<http::Response> overLimit(const core::Result<std::size_t>& held, unsigned limit, std::string_view what,
                                        std::string_view key, const http::Request& request) {
  if (!held) return failure(held.error(), request);
  if (*held >= limit) return limitReached(what, limit, key);
  return std::nullopt;
}

http::Response failure(const core::Error& error, const http::Request& request) {
  switch (error.code) {
    case ErrorCode::NotFound: return notFound();
    case ErrorCode::Unavailable:
    case ErrorCode::Timeout:
      core::log::warn("api.unavailable", {{"request_id", request.requestId}, {"error", error.message}});
      return http::problem(503, "unavailable", "Service Unavailable", "a dependency is unavailable; retry later");
    case ErrorCode::Conflict:
      return http::problem(409, "conflict", "Conflict", "the resource was changed concurrently; retry");
    default:
      core::log::error("api.failure", {{"request_id", request.requestId},
                                       {"code", core::errorCodeName(error.code)},
                                       {"error", error.message}});
      return http::problem(500, "internal", "Internal Server Error", "an unexpected error occurred; see the server log",
                           request.requestId);
  }
}

Reply<void> requireVault(const Services& services) {
  if (!services.accounts) {
    return std::unexpected(http::problem(503, "unavailable", "Service Unavailable",
                                         "the credential vault is not open (database migrations pending)"));
  }
  return {};
}

const std::string& callerId(const http::Request& request) { return request.identity->userId; }

Reply<accounts::Account> ownedAccount(Services& services, const http::Request& request, const std::string& accountId) {
  if (auto ok = requireVault(services); !ok) return std::unexpected(ok.error());
  auto account = services.accounts->get(accountId);
  if (!account) return std::unexpected(failure(account.error(), request));
  if (account->userId != callerId(request)) return std::unexpected(notFound());
  return std::move(*account);
}

Reply<sync::SyncPair> ownedPair(Services& services, const http::Request& request, const std::string& pairId) {
  auto pair = sync::PairStore(*services.db, *services.clock).get(pairId);
  if (!pair) return std::unexpected(failure(pair.error(), request));
  if (pair->userId != callerId(request)) return std::unexpected(notFound());
  return std::move(*pair);
}

Reply<sync::CalendarRef> ownedCalendar(Services& services, const http::Request& request, std::string_view field,
                                       const std::string& calendarId) {
  auto unknown = [&] {
    return http::fieldProblem(422, "unknown-calendar", "Unprocessable Content",
                              std::string(field) + ": no calendar with this id among your accounts", field);
  };
  if (auto ok = requireVault(services); !ok) return std::unexpected(ok.error());
  auto calendar = sync::CalendarStore(*services.db, *services.clock).get(calendarId);
  if (!calendar) {
    if (calendar.error().code == ErrorCode::NotFound) return std::unexpected(unknown());
    return std::unexpected(failure(calendar.error(), request));
  }
  auto account = services.accounts->get(calendar->accountId);
  if (!account) return std::unexpected(failure(account.error(), request));
  if (account->userId != callerId(request)) return std::unexpected(unknown());
  return std::move(*calendar);
}

void auditCaller(Services& services, const http::Request& request, std::string action, std::string objectRef,
                 std::string decision, std::map<std::string, std::string> facts, std::vector<std::string> reasons) {
  audit::AuditEntry e;
  e.actor = callerId(request);
  e.userId = callerId(request);
  e.action = std::move(action);
  e.objectRef = std::move(objectRef);
  e.decision = std::move(decision);
  e.facts = std::move(facts);
  e.reasons = std::move(reasons);
  if (auto ok = audit::AuditLog(*services.db, *services.clock).append(e); !ok) {
    core::log::error("api.audit_failed",
                     {{"request_id", request.requestId}, {"action", e.action}, {"error", ok.error().message}});
  }
}

nlohmann::json identitiesJson(const std::vector<model::Identity>& identities) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& i : identities) {
    out.push_back({{"kind", std::string(model::toString(i.kind))},
                   {"address", i.address.empty() ? nlohmann::json(nullptr) : nlohmann::json(i.address)},
                   {"domain", i.domain},
                   {"inside", i.member}});
  }
  return out;
}

nlohmann::json accountJson(const accounts::Account& a) {
  return {{"id", a.id},
          {"provider", std::string(model::toString(a.provider))},
          {"email", a.email},
          {"domain", a.domain},
          {"server_url", a.serverUrl ? nlohmann::json(*a.serverUrl) : nlohmann::json(nullptr)},
          {"status", a.status},
          {"created_at", a.createdAt},
          {"identities", identitiesJson(a.identities)},
          {"identities_proven", a.identitiesProven}};
}

nlohmann::json calendarJson(const sync::CalendarRef& c) {
  return {{"id", c.id},
          {"account_id", c.accountId},
          {"name", c.displayName},
          {"provider_calendar_id", c.providerCalendarId},
          {"time_zone", c.timeZone},
          {"writable", c.writable}};
}

nlohmann::json feedJson(const feeds::Feed& f) {
  return {{"id", f.id},
          {"label", f.label},
          {"calendar_ids", f.calendarIds},
          {"window", {{"past_days", f.windowPastDays}, {"future_days", f.windowFutureDays}}},
          {"pin_protected", f.pinProtected},
          {"created_at", f.createdAt},
          {"revoked_at", f.revokedAt ? nlohmann::json(*f.revokedAt) : nlohmann::json(nullptr)}};
}

nlohmann::json rulesJson(const policy::PairRules& rules) { return nlohmann::json::parse(sync::rulesToJson(rules)); }

std::string pairState(const sync::SyncPair& p) {
  if (!p.enabled) return "disabled";
  if (p.accountNeedsReauth) return "needs_reauth";
  if (p.quarantinedAt) return "quarantined";
  if (p.needsConfirmation) return "needs_confirmation";
  return "active";
}

nlohmann::json pairJson(const sync::SyncPair& p) {
  return {{"id", p.id},
          {"source_calendar_id", p.sourceCalendarId},
          {"target_calendar_id", p.targetCalendarId},
          {"direction", p.direction == sync::Direction::TwoWay ? "two_way" : "one_way"},
          {"rules", rulesJson(p.rules)},
          {"window", {{"past_days", p.windowPastDays}, {"future_days", p.windowFutureDays}}},
          {"enabled", p.enabled},
          {"state", pairState(p)},
          {"created_at", p.createdAt},
          {"updated_at", p.updatedAt}};
}

nlohmann::json skippedJson(const std::vector<sync::SkippedEntry>& entries) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& e : entries) {
    items.push_back({{"calendar_id", e.sourceCalendarId},
                     {"source_event_id", e.sourceEventId},
                     {"reason", e.reason},
                     {"first_seen_at", e.firstSeenAt},
                     {"seen_at", e.seenAt}});
  }
  return items;
}

nlohmann::json failingJson(const std::vector<sync::FailingEvent>& events) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& f : events) {
    items.push_back({{"calendar_id", f.sourceCalendarId},
                     {"source_event_id", f.sourceEventId},
                     {"reason", f.reason},
                     {"attempts", f.attempts},
                     {"first_failed_at", f.firstFailedAt},
                     {"next_retry_at", f.nextRetryAt}});
  }
  return items;
}

// Whether each calendar the pair reads notifies its changes (a live push channel) or is polled, and why.
core::Result<nlohmann::json> pushJson(Services& services, const sync::SyncPair& p) {
  std::vector<std::string> read{p.sourceCalendarId};
  if (p.direction == sync::Direction::TwoWay) read.push_back(p.targetCalendarId);
  sync::PushChannelStore store(*services.db, *services.clock);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& id : read) {
    auto push = store.ofCalendar(id);
    if (!push) return std::unexpected(push.error());
    auto calendar = sync::CalendarStore(*services.db, *services.clock).get(id);
    if (!calendar) return std::unexpected(calendar.error());
    std::string why;
    if (push->refusal) {
      why = "the provider refused a push channel (" + push->refusal->reason + "): the calendar is polled, and calgate asks again later";
    } else if (calendar->provider == model::ProviderKind::CalDav) {
      why = "CalDAV has no push notifications: the calendar is polled";
    } else if (!services.publicUrl.starts_with("https://")) {
      why = "push needs an https server.public_url: the calendar is polled";
    } else {
      why = "no push channel is open yet (one is opened after a sync): the calendar is polled";
    }
    const auto until = push->notifiedUntil;
    out.push_back({{"calendar_id", id},
                   {"notified", until.has_value()},
                   {"expires_at", until ? nlohmann::json(*until) : nlohmann::json(nullptr)},
                   {"reason", until ? nlohmann::json(nullptr) : nlohmann::json(why)}});
  }
  return out;
}

core::Result<nlohmann::json> statusJson(Services& services, const sync::SyncPair& p) {
  auto counts = sync::MappingStore(*services.db, *services.clock).countByState(p.id);
  if (!counts) return std::unexpected(counts.error());
  auto job = sync::JobQueue(*services.db, *services.clock).pairJob(p.id);
  if (!job) return std::unexpected(job.error());
  sync::SkipStore skips(*services.db, *services.clock);
  auto skippedCount = skips.count(p.id);
  if (!skippedCount) return std::unexpected(skippedCount.error());
  auto skipped = skips.list(p.id, kStatusSkippedItems);
  if (!skipped) return std::unexpected(skipped.error());
  sync::FailureStore failures(*services.db, *services.clock);
  auto failingCount = failures.count(p.id);
  if (!failingCount) return std::unexpected(failingCount.error());
  auto failing = failures.list(p.id, kStatusSkippedItems);
  if (!failing) return std::unexpected(failing.error());
  auto push = pushJson(services, p);
  if (!push) return std::unexpected(push.error());
  auto nullable = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
  return nlohmann::json{
      {"pair_id", p.id},
      {"push", std::move(*push)},
      {"state", pairState(p)},
      {"enabled", p.enabled},
      {"needs_confirmation", p.needsConfirmation},
      {"confirmation_reason", nullable(p.confirmationReason)},
      // what a confirmation names: the deletions the guard holds (their count and digest)
      {"quarantine",
       p.quarantinedAt ? nlohmann::json{{"since", *p.quarantinedAt}, {"reason", p.quarantineReason}}
                       : nlohmann::json(nullptr)},
      {"held_deletions",
       p.needsConfirmation ? nlohmann::json{{"count", p.guardDeletions.size()},
                                            {"digest", sync::deletionsDigest(p.guardDeletions)}}
                           : nlohmann::json(nullptr)},
      {"last_success_at", p.lastSuccessAt ? nlohmann::json(*p.lastSuccessAt) : nlohmann::json(nullptr)},
      {"last_error", nullable(p.lastError)},
      {"counts",
       {{"synced", counts->synced},
        {"denied", counts->denied},
        {"deleted", counts->deleted},
        {"kept_deleted", counts->keptDeleted}}},
      {"skipped", {{"count", *skippedCount}, {"items", skippedJson(*skipped)}}},
      {"failing", {{"count", *failingCount}, {"items", failingJson(*failing)}}},
      {"job",
       {{"queued", job->queued},
        {"running", job->running},
        {"attempts", job->attempts},
        {"next_run_at", job->nextRunAt ? nlohmann::json(*job->nextRunAt) : nlohmann::json(nullptr)},
        // how far the running sync got (what the portal shows while it runs)
        {"progress", job->progress ? nlohmann::json{{"step", job->progress->step},
                                                    {"planned", job->progress->planned},
                                                    {"written", job->progress->written},
                                                    {"updated_at", job->progress->updatedAt}}
                                   : nlohmann::json(nullptr)}}}};
}

std::string_view validationName(policy::Validation v) {
  switch (v) {
    case policy::Validation::Secure: return "secure";
    case policy::Validation::Insecure: return "insecure";
    case policy::Validation::Bogus: return "bogus";
    case policy::Validation::Indeterminate: return "indeterminate";
    case policy::Validation::NoRecord: return "no_record";
  }
  return "indeterminate";
}

std::string cookieValue(const http::Request& request, std::string_view name) {
  const auto header = request.header("cookie");
  if (!header || header->size() > 16384) return {};
  std::string_view rest = *header;
  while (!rest.empty()) {
    std::string_view part = rest.substr(0, rest.find(';'));
    rest = part.size() == rest.size() ? std::string_view() : rest.substr(part.size() + 1);
    while (part.starts_with(" ")) part.remove_prefix(1);
    if (part.starts_with(name) && part.size() > name.size() && part[name.size()] == '=') {
      return std::string(part.substr(name.size() + 1));
    }
  }
  return {};
}

std::string setCookie(const Services& services, std::string_view name, std::string_view value, std::string_view path,
                      long long maxAge) {
  std::string out = std::string(name) + "=" + std::string(value) + "; Path=" + std::string(path) +
                    "; HttpOnly; SameSite=Lax; Max-Age=" + std::to_string(maxAge);
  if (services.publicUrl.starts_with("https://")) out += "; Secure";
  return out;
}

std::string sessionCookieName(const Services& services) {
  return services.publicUrl.starts_with("https://") ? "__Host-calgate_session" : "calgate_session";
}

CookieName bindingCookie(const Services& services, std::string_view base) {
  if (services.publicUrl.starts_with("https://")) return {"__Host-" + std::string(base), "/"};
  return {std::string(base), "/oauth"};
}

http::Response htmlPage(int status, const HtmlPage& p) {
  std::string form, link;
  if (!p.action.empty()) {
    form = "<form method=\"post\" action=\"" + core::htmlEscape(p.action) + "\"><button type=\"submit\">" +
           core::htmlEscape(p.button) + "</button></form>";
  }
  if (!p.link.empty()) link = "<p><a href=\"" + core::htmlEscape(p.link) + "\">" + core::htmlEscape(p.linkText) + "</a></p>";
  std::string body = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
                     "content=\"width=device-width, initial-scale=1\"><title>" + core::htmlEscape(p.title) +
                     " - calgate</title></head><body><main><h1>" + core::htmlEscape(p.title) + "</h1><p>" +
                     core::htmlEscape(p.message) + "</p>" + form + link + "</main></body></html>\n";
  http::Response r = http::Response::text(status, std::move(body), "text/html; charset=utf-8");
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; form-action " + p.formAction + "; frame-ancestors 'none'; base-uri 'none'");
  // a page whose form posts to us: a browser sends "Origin: null" under no-referrer, and the
  // handlers check the Origin (the page's own URL may hold a secret: never sent to other sites)
  r.headers.emplace_back("Referrer-Policy", p.action.empty() ? "no-referrer" : "same-origin");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

http::Response jsonResponse(int status, const nlohmann::json& body) {
  // ids and reasons from calendar servers may hold invalid UTF-8: U+FFFD, never an exception
  return http::Response::json(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

http::Response noContent() {
  http::Response r = http::Response::json(204, "");
  r.contentType.clear();
  return r;
}

core::Result<void> stopChannels(Services& services, const std::vector<sync::CalendarRef>& calendars) {
  if (!services.providers) return {};
  const auto deadline = std::chrono::steady_clock::now() + services.outboundBudget;
  sync::PushMaintainer::Observer observe;
  if (services.pushMetrics) {
    observe = [metrics = services.pushMetrics](std::string_view provider, std::string_view action, bool ok) {
      metrics->upkeep(provider, action, ok);
    };
  }
  auto stopped = sync::stopPushChannels(*services.db, *services.clock, *services.providers, calendars, deadline, observe);
  if (!stopped) return std::unexpected(stopped.error());
  if (*stopped > 0) core::log::info("push.channels_stopped", {{"channels", *stopped}});
  return {};
}

}  // namespace calgate::api
