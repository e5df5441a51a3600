// /v1/pairs: sync pairs of the caller's calendars, their status, the mass-delete confirmation,
// "sync now", and the dry-run preview (pair_preview.cpp).

#include "calgate/policy/evaluator.hpp"
#include "calgate/sync/job_queue.hpp"
#include "calgate/sync/sync_service.hpp"
#include "pair_preview.hpp"
#include "support.hpp"

#include <algorithm>
#include <cctype>


namespace calgate::api {
namespace {

using core::ErrorCode;

// Reads a rules object onto `rules` (fields not given keep their value).
Reply<void> readRules(const ObjectReader& in, policy::PairRules& rules) {
  if (auto ok = in.only({"mode", "label", "description", "location", "show_as", "attendees"}); !ok) return ok;
  auto mode = in.optionalEnum("mode", {"full", "private"});
  if (!mode) return std::unexpected(mode.error());
  if (*mode) rules.mode = **mode == "private" ? policy::PrivacyMode::Private : policy::PrivacyMode::Full;
  auto label = in.optionalString("label", 1, 100);
  if (!label) return std::unexpected(label.error());
  if (*label) rules.label = policy::sanitiseLabel(**label);
  auto description = in.optionalEnum("description", {"keep", "clear"});
  if (!description) return std::unexpected(description.error());
  if (*description) rules.description = **description == "clear" ? policy::FieldRule::Clear : policy::FieldRule::Keep;
  auto location = in.optionalEnum("location", {"keep", "clear"});
  if (!location) return std::unexpected(location.error());
  if (*location) rules.location = **location == "clear" ? policy::FieldRule::Clear : policy::FieldRule::Keep;
  if (const auto* v = in.member("show_as"); v && v->is_null()) {
    rules.showAsOverride.reset();
  } else {
    auto showAs = in.optionalEnum("show_as", {"free", "tentative", "busy", "out_of_office", "working_elsewhere"});
    if (!showAs) return std::unexpected(showAs.error());
    if (*showAs) rules.showAsOverride = model::showAsFromString(**showAs);
  }
  auto attendees = in.optionalEnum("attendees", {"omit", "copy_where_silent"});
  if (!attendees) return std::unexpected(attendees.error());
  if (*attendees) {
    rules.attendees = **attendees == "copy_where_silent" ? policy::AttendeeRule::CopyWhereSilent
                                                         : policy::AttendeeRule::Omit;
  }
  return {};
}

Reply<void> readWindow(const ObjectReader& in, int& pastDays, int& futureDays) {
  if (auto ok = in.only({"past_days", "future_days"}); !ok) return ok;
  auto past = in.optionalInteger("past_days", 0, 3650);
  if (!past) return std::unexpected(past.error());
  auto future = in.optionalInteger("future_days", 1, 3650);
  if (!future) return std::unexpected(future.error());
  if (*past) pastDays = static_cast<int>(**past);
  if (*future) futureDays = static_cast<int>(**future);
  return {};
}

Reply<sync::Direction> readDirection(const ObjectReader& in, sync::Direction current) {
  auto d = in.optionalEnum("direction", {"one_way", "two_way"});
  if (!d) return std::unexpected(d.error());
  if (!*d) return current;
  return **d == "two_way" ? sync::Direction::TwoWay : sync::Direction::OneWay;
}

// The calendars a pair writes to must be writable: the target, and the source too when two-way.
Reply<void> checkWritable(const sync::CalendarRef& source, const sync::CalendarRef& target, sync::Direction d) {
  auto readOnly = [](std::string_view field) {
    return http::fieldProblem(422, "calendar-read-only", "Unprocessable Content",
                              std::string(field) + ": calgate would write to this calendar, but it is read-only", field);
  };
  if (!target.writable) return std::unexpected(readOnly("target_calendar_id"));
  if (d == sync::Direction::TwoWay && !source.writable) return std::unexpected(readOnly("source_calendar_id"));
  return {};
}

// Jobs queued by a request wake this process's workers at once.
core::Result<bool> queueSync(Services& services, const std::string& pairId) {
  sync::QueueOptions options;
  options.signal = services.jobSignal;
  return sync::JobQueue(*services.db, *services.clock, options).enqueue("sync_pair", pairId, "sync:" + pairId);
}

/// The digest a confirmation names ({"deletions": "<64 hex>"}); "" for a request without a body.
Reply<std::string> confirmedDigest(const http::Request& request) {
  if (request.body.empty() && !request.header("content-type")) return std::string();  // no body at all
  auto body = readJsonObject(request);
  if (!body) return std::unexpected(body.error());
  ObjectReader in(*body);
  if (auto ok = in.only({"deletions"}); !ok) return std::unexpected(ok.error());
  auto digest = in.requiredString("deletions", 64, 64);
  if (!digest) return std::unexpected(digest.error());
  if (!std::all_of(digest->begin(), digest->end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) && !std::isupper(static_cast<unsigned char>(c)); })) {
    return std::unexpected(invalidField("deletions", "the digest of the held deletions: 64 lowercase hex digits"));
  }
  return *digest;
}

http::Response createPair(Services& services, http::Request& request) {
  if (auto ok = requireVault(services); !ok) return ok.error();
  if (auto over = overLimit(countOf(sync::PairStore(*services.db, *services.clock).listForUser(callerId(request))),
                            services.limits.pairsPerUser, "sync pairs", "pairs_per_user", request)) {
    return *over;
  }
  auto body = readJsonObject(request);
  if (!body) return body.error();
  ObjectReader in(*body);
  if (auto ok = in.only({"source_calendar_id", "target_calendar_id", "direction", "rules", "window", "enabled"}); !ok) {
    return ok.error();
  }
  auto sourceId = in.requiredString("source_calendar_id", 1, 64);
  if (!sourceId) return sourceId.error();
  auto targetId = in.requiredString("target_calendar_id", 1, 64);
  if (!targetId) return targetId.error();
  sync::NewPair pair;
  pair.userId = callerId(request);
  pair.sourceCalendarId = *sourceId;
  pair.targetCalendarId = *targetId;
  auto direction = readDirection(in, sync::Direction::OneWay);
  if (!direction) return direction.error();
  pair.direction = *direction;
  auto rules = in.optionalObject("rules");
  if (!rules) return rules.error();
  if (*rules) {
    if (auto ok = readRules(**rules, pair.rules); !ok) return ok.error();
  }
  auto window = in.optionalObject("window");
  if (!window) return window.error();
  if (*window) {
    if (auto ok = readWindow(**window, pair.windowPastDays, pair.windowFutureDays); !ok) return ok.error();
  }
  auto enabled = in.optionalBool("enabled");
  if (!enabled) return enabled.error();

  if (pair.sourceCalendarId == pair.targetCalendarId) {
    return http::fieldProblem(422, "same-calendar", "Unprocessable Content",
                              "a pair needs two different calendars", "target_calendar_id");
  }
  auto source = ownedCalendar(services, request, "source_calendar_id", pair.sourceCalendarId);
  if (!source) return source.error();
  auto target = ownedCalendar(services, request, "target_calendar_id", pair.targetCalendarId);
  if (!target) return target.error();
  if (auto ok = checkWritable(*source, *target, pair.direction); !ok) return ok.error();

  sync::PairStore store(*services.db, *services.clock);
  auto existing = store.listForUser(pair.userId);
  if (!existing) return failure(existing.error(), request);
  for (const auto& p : *existing) {
    const bool same = p.sourceCalendarId == pair.sourceCalendarId && p.targetCalendarId == pair.targetCalendarId;
    const bool mirrored = p.sourceCalendarId == pair.targetCalendarId && p.targetCalendarId == pair.sourceCalendarId;
    if (same || mirrored) {
      return http::problem(409, "pair-exists", "Conflict", "pair " + p.id + " already connects these two calendars");
    }
  }
  auto created = store.create(pair);
  if (!created) {
    if (created.error().code == ErrorCode::Conflict) {  // a concurrent request paired them first
      return http::problem(409, "pair-exists", "Conflict", "these two calendars are already paired");
    }
    return failure(created.error(), request);
  }
  if (*enabled && !**enabled) {
    sync::PairChange disable;
    disable.enabled = false;
    auto changed = store.change(created->id, disable);
    if (!changed) return failure(changed.error(), request);
    created = std::move(changed);
  } else {
    (void)queueSync(services, created->id);
  }
  auditCaller(services, request, "pair.create", "pair/" + created->id, "created");
  http::Response r = jsonResponse(201, pairJson(*created));
  r.headers.emplace_back("Location", "/v1/pairs/" + created->id);
  return r;
}

http::Response updatePair(Services& services, http::Request& request) {
  auto pair = ownedPair(services, request, request.params["id"]);
  if (!pair) return pair.error();
  auto body = readJsonObject(request);
  if (!body) return body.error();
  ObjectReader in(*body);
  if (auto ok = in.only({"direction", "rules", "window", "enabled"}); !ok) return ok.error();
  sync::PairChange change;
  auto direction = readDirection(in, pair->direction);
  if (!direction) return direction.error();
  if (*direction != pair->direction) change.direction = *direction;
  auto rules = in.optionalObject("rules");
  if (!rules) return rules.error();
  if (*rules) {
    policy::PairRules check = pair->rules;
    if (auto ok = readRules(**rules, check); !ok) return ok.error();
    // applied again to the rules as stored when the change commits: only the fields sent change
    change.editRules = [reader = **rules](policy::PairRules& r) { (void)readRules(reader, r); };
  }
  auto window = in.optionalObject("window");
  if (!window) return window.error();
  if (*window) {
    constexpr int kUnset = -1;
    int past = kUnset, future = kUnset;
    if (auto ok = readWindow(**window, past, future); !ok) return ok.error();
    if (past != kUnset) change.windowPastDays = past;
    if (future != kUnset) change.windowFutureDays = future;
  }
  auto enabled = in.optionalBool("enabled");
  if (!enabled) return enabled.error();
  change.enabled = *enabled;
  if (change.direction) {
    sync::CalendarStore calendars(*services.db, *services.clock);
    auto source = calendars.get(pair->sourceCalendarId);
    auto target = calendars.get(pair->targetCalendarId);
    if (!source) return failure(source.error(), request);
    if (!target) return failure(target.error(), request);
    if (auto ok = checkWritable(*source, *target, *change.direction); !ok) return ok.error();
  }
  auto changed = sync::PairStore(*services.db, *services.clock).change(pair->id, change);
  if (!changed) return failure(changed.error(), request);
  if (changed->enabled) (void)queueSync(services, changed->id);
  auditCaller(services, request, "pair.update", "pair/" + changed->id, "updated");
  return jsonResponse(200, pairJson(*changed));
}

http::Response statusResponse(Services& services, const http::Request& request, const sync::SyncPair& pair) {
  auto status = statusJson(services, pair);
  if (!status) return failure(status.error(), request);
  return jsonResponse(200, *status);
}

}  // namespace

void addPairRoutes(http::Router& router, Services& services) {
  router.add({"POST", "/v1/pairs", true, [&services](http::Request& request) { return createPair(services, request); }});

  router.add({"GET", "/v1/pairs", true, [&services](http::Request& request) {
                auto pairs = sync::PairStore(*services.db, *services.clock).listForUser(callerId(request));
                if (!pairs) return failure(pairs.error(), request);
                nlohmann::json list = nlohmann::json::array();
                for (const auto& p : *pairs) list.push_back(pairJson(p));
                return jsonResponse(200, {{"pairs", list}});
              }});

  router.add({"GET", "/v1/pairs/{id}", true, [&services](http::Request& request) {
                auto pair = ownedPair(services, request, request.params["id"]);
                if (!pair) return pair.error();
                return jsonResponse(200, pairJson(*pair));
              }});

  router.add({"PATCH", "/v1/pairs/{id}", true, [&services](http::Request& request) { return updatePair(services, request); }});

  router.add({"DELETE", "/v1/pairs/{id}", true, [&services](http::Request& request) {
                auto pair = ownedPair(services, request, request.params["id"]);
                if (!pair) return pair.error();
                auto query = parseQuery(request.query);
                bool deleteCopies = false;
                for (const auto& [k, v] : query ? *query : decltype(query)::value_type{}) {
                  if (k != "copies" || (v != "keep" && v != "delete")) {
                    return http::problem(400, "invalid-query", "Bad Request",
                                         "the only parameter is copies=keep (the default) or copies=delete");
                  }
                  deleteCopies = v == "delete";
                }
                if (!query) return http::problem(400, "invalid-query", "Bad Request", "malformed query string");
                if (deleteCopies) {
                  // the copies are deleted by the workers (each through an approved Delete), then the pair
                  if (auto ok = sync::scheduleRemovalWithCopies(*services.db, *services.clock, pair->id,
                                                                services.jobSignal);
                      !ok) {
                    return failure(ok.error(), request);
                  }
                  auditCaller(services, request, "pair.delete", "pair/" + pair->id, "deleting_copies");
                  return jsonResponse(202, {{"pair_id", pair->id}, {"removing_copies", true}});
                }
                if (auto ok = sync::PairStore(*services.db, *services.clock).remove(pair->id); !ok) {
                  return failure(ok.error(), request);
                }
                auditCaller(services, request, "pair.delete", "pair/" + pair->id, "deleted");
                return noContent();
              }});

  router.add({"POST", "/v1/pairs/{id}/sync", true, [&services](http::Request& request) {
                auto pair = ownedPair(services, request, request.params["id"]);
                if (!pair) return pair.error();
                if (!pair->enabled) {
                  return http::problem(409, "pair-disabled", "Conflict", "the pair is disabled; enable it first");
                }
                if (pair->needsConfirmation) {
                  return http::problem(409, "needs-confirmation", "Conflict",
                                       "the pair is paused by the mass-delete guard (" + pair->confirmationReason +
                                           "); confirm it with POST /v1/pairs/" + pair->id + "/confirm");
                }
                if (pair->quarantinedAt) {
                  return http::problem(409, "quarantined", "Conflict",
                                       "the pair is quarantined: " + pair->quarantineReason +
                                           ". Release it with POST /v1/pairs/" + pair->id + "/release");
                }
                auto queued = queueSync(services, pair->id);
                if (!queued) return failure(queued.error(), request);
                return jsonResponse(202, {{"pair_id", pair->id}, {"queued", *queued}});
              }});

  router.add({"POST", "/v1/pairs/{id}/release", true, [&services](http::Request& request) {
                auto pair = ownedPair(services, request, request.params["id"]);
                if (!pair) return pair.error();
                sync::PairStore store(*services.db, *services.clock);
                if (auto ok = store.release(pair->id); !ok) {
                  if (ok.error().code == core::ErrorCode::Conflict) {
                    return http::problem(409, "not-quarantined", "Conflict", "the pair is not quarantined");
                  }
                  return failure(ok.error(), request);
                }
                auditCaller(services, request, "pair.release", "pair/" + pair->id, "released", {},
                            {pair->quarantineReason});
                (void)queueSync(services, pair->id);
                auto updated = store.get(pair->id);
                if (!updated) return failure(updated.error(), request);
                return statusResponse(services, request, *updated);
              }});

  router.add({"GET", "/v1/pairs/{id}/status", true, [&services](http::Request& request) {
                auto pair = ownedPair(services, request, request.params["id"]);
                if (!pair) return pair.error();
                return statusResponse(services, request, *pair);
              }});

  router.add({"POST", "/v1/pairs/{id}/confirm", true, [&services](http::Request& request) {
                auto pair = ownedPair(services, request, request.params["id"]);
                if (!pair) return pair.error();
                // {"deletions": "<digest>"} binds the confirmation to what the caller was shown
                // (status held_deletions.digest or the preview's guard); no body: what is held now.
                auto digest = confirmedDigest(request);
                if (!digest) return digest.error();
                if (!pair->needsConfirmation) {
                  return http::problem(409, "not-waiting-for-confirmation", "Conflict",
                                       "the pair is not paused by the mass-delete guard");
                }
                const std::string held = sync::deletionsDigest(pair->guardDeletions);
                if (!digest->empty() && *digest != held) {
                  return http::problem(409, "deletions-changed", "Conflict",
                                       "the pair now holds other deletions than the ones confirmed; look at its "
                                       "status or preview again and confirm what it shows now");
                }
                sync::PairStore store(*services.db, *services.clock);
                if (auto ok = store.confirmDeletions(pair->id, held); !ok) return failure(ok.error(), request);
                auditCaller(services, request, "sync.guard", "pair/" + pair->id, "confirmed", {{"deletions", held}},
                            {pair->confirmationReason});
                (void)queueSync(services, pair->id);
                auto updated = store.get(pair->id);
                if (!updated) return failure(updated.error(), request);
                return statusResponse(services, request, *updated);
              }});

  router.add({"GET", "/v1/pairs/{id}/preview", true, [&services](http::Request& request) {
                auto pair = ownedPair(services, request, request.params["id"]);
                if (!pair) return pair.error();
                auto query = parseQuery(request.query);
                if (!query) return http::problem(400, "invalid-query", "Bad Request", "malformed query string");
                long long limit = 10;
                auto scope = sync::PlanScope::NextRun;
                for (const auto& [k, v] : *query) {
                  if (k == "scope" && (v == "next" || v == "all")) {
                    scope = v == "all" ? sync::PlanScope::Everything : sync::PlanScope::NextRun;
                    continue;
                  }
                  char* end = nullptr;
                  const long long n = k == "limit" && !v.empty() && v.size() <= 3 ? std::strtoll(v.c_str(), &end, 10) : 0;
                  if (k != "limit" || end == nullptr || *end != '\0' || n < 1 || n > 50) {
                    return http::problem(400, "invalid-query", "Bad Request",
                                         "the parameters are limit (1 to 50) and scope (next or all)");
                  }
                  limit = n;
                }
                if (auto ok = requireVault(services); !ok) return ok.error();
                return previewPair(services, request, *pair, static_cast<std::size_t>(limit), scope);
              },
              /*outbound=*/true});
}

}  // namespace calgate::api
