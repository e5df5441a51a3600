// /v1/me: who the caller is, everything calgate holds about them (GDPR Art. 15/20, machine-
// readable, no secrets) and erasure (Art. 17).

#include "calgate/accounts/token_broker.hpp"
#include "calgate/accounts/user_erasure.hpp"
#include "calgate/core/log.hpp"
#include "calgate/feeds/feed_store.hpp"
#include "calgate/store/row_values.hpp"
#include "calgate/sync/mapping_store.hpp"
#include "calgate/portal/session_store.hpp"
#include "support.hpp"

#include <soci/soci.h>

namespace calgate::api {
namespace {

// Before a user is erased, the providers forget calgate's access to their OAuth accounts too
// (where they offer revocation). Best effort: the erasure goes ahead whatever they answer.
void revokeOAuthAccess(Services& services, const std::string& userId) {
  if (!services.tokens || !services.accounts) return;
  auto accounts = services.accounts->listForUser(userId);
  if (!accounts) return;
  for (const auto& a : *accounts) {
    if (a.provider == model::ProviderKind::CalDav) continue;
    if (auto revoked = services.tokens->revoke(a.id); !revoked) {
      core::log::warn("oauth.revoke_failed", {{"account", a.id}, {"error", revoked.error().describe()}});
    }
  }
}

// Before a user is erased, their push channels are stopped while their credentials can still do
// it. Best effort at the providers; errors only for the database.
core::Result<void> stopUserChannels(Services& services, const std::string& userId) {
  if (!services.accounts) return {};
  auto accounts = services.accounts->listForUser(userId);
  if (!accounts) return std::unexpected(accounts.error());
  std::vector<sync::CalendarRef> calendars;
  for (const auto& a : *accounts) {
    auto of = sync::CalendarStore(*services.db, *services.clock).listForAccount(a.id);
    if (!of) return std::unexpected(of.error());
    calendars.insert(calendars.end(), of->begin(), of->end());
  }
  return stopChannels(services, calendars);
}

using store::integerAt;
using store::textAt;

nlohmann::json nullableInt(const soci::row& r, std::size_t i) {
  return r.get_indicator(i) == soci::i_null ? nlohmann::json(nullptr) : nlohmann::json(integerAt(r, i));
}

nlohmann::json nullableText(const soci::row& r, std::size_t i) {
  const std::string t = textAt(r, i);
  return t.empty() ? nlohmann::json(nullptr) : nlohmann::json(t);
}

// Everything held about the user, by table. Secrets are left out: token and feed-token hashes,
// credential ciphertexts, PIN hashes.
core::Result<nlohmann::json> exportUser(Services& services, const accounts::User& who) {
  const std::string& uid = who.id;
  nlohmann::json out = {{"format", "calgate-export/1"},
                        {"exported_at", services.clock->nowUnixSeconds()},
                        {"user", {{"id", uid}, {"email", who.email}, {"created_at", who.createdAt}}}};
  auto sessions = services.sessions ? services.sessions->list(uid) : core::Result<std::vector<portal::Session>>{};
  if (!sessions) return std::unexpected(sessions.error());
  out["sessions"] = nlohmann::json::array();
  for (const auto& s : *sessions) {
    out["sessions"].push_back({{"id", s.id}, {"via", s.via}, {"client", s.client}, {"created_at", s.createdAt},
                               {"last_seen_at", s.lastSeenAt}, {"expires_at", s.expiresAt}});
  }
  auto tokens = services.users->listTokens(who.email);
  if (!tokens) return std::unexpected(tokens.error());
  out["tokens"] = nlohmann::json::array();
  for (const auto& t : *tokens) {
    out["tokens"].push_back({{"id", t.id},
                             {"label", t.label},
                             {"created_at", t.createdAt},
                             {"last_used_at", t.lastUsedAt ? nlohmann::json(*t.lastUsedAt) : nlohmann::json(nullptr)},
                             {"revoked_at", t.revokedAt ? nlohmann::json(*t.revokedAt) : nlohmann::json(nullptr)}});
  }
  out["accounts"] = nlohmann::json::array();
  if (services.accounts) {
    auto accounts = services.accounts->listForUser(uid);
    if (!accounts) return std::unexpected(accounts.error());
    sync::CalendarStore calendars(*services.db, *services.clock);
    for (const auto& a : *accounts) {
      auto cals = calendars.listForAccount(a.id);
      if (!cals) return std::unexpected(cals.error());
      nlohmann::json account = accountJson(a);
      account["calendars"] = nlohmann::json::array();
      for (const auto& c : *cals) account["calendars"].push_back(calendarJson(c));
      out["accounts"].push_back(std::move(account));
    }
  }
  auto pairs = sync::PairStore(*services.db, *services.clock).listForUser(uid);
  if (!pairs) return std::unexpected(pairs.error());
  out["pairs"] = nlohmann::json::array();
  for (const auto& p : *pairs) {
    nlohmann::json pair = pairJson(p);
    auto status = statusJson(services, p);
    if (!status) return std::unexpected(status.error());
    pair["status"] = std::move(*status);
    auto skipped = sync::SkipStore(*services.db, *services.clock).list(p.id);
    if (!skipped) return std::unexpected(skipped.error());
    pair["skipped_resources"] = skippedJson(*skipped);  // all of them; the status shows the latest
    auto failing = sync::FailureStore(*services.db, *services.clock).list(p.id);
    if (!failing) return std::unexpected(failing.error());
    pair["failing_events"] = failingJson(*failing);
    out["pairs"].push_back(std::move(pair));
  }
  auto rows = services.db->withSession([&](soci::session& sql) -> core::Result<void> {
    out["mappings"] = nlohmann::json::array();
    soci::rowset<soci::row> mappings =
        (sql.prepare << "SELECT m.pair_id, m.source_calendar_id, m.source_event_id, m.source_recurrence_id, "
                        "m.target_event_id, m.state, m.start_at, m.end_at, m.all_day, m.recurring, m.content_sha256, "
                        "m.deleted_at FROM mappings m JOIN pairs p ON p.id = m.pair_id WHERE p.user_id = :u "
                        "ORDER BY m.pair_id, m.start_at",
         soci::use(uid));
    for (const auto& r : mappings) {
      out["mappings"].push_back({{"pair_id", textAt(r, 0)},
                                 {"source_calendar_id", textAt(r, 1)},
                                 {"source_event_id", textAt(r, 2)},
                                 {"source_recurrence_id", textAt(r, 3)},
                                 {"target_event_id", nullableText(r, 4)},
                                 {"state", textAt(r, 5)},
                                 {"start_at", nullableInt(r, 6)},
                                 {"end_at", nullableInt(r, 7)},
                                 {"all_day", integerAt(r, 8) != 0},
                                 {"recurring", integerAt(r, 9) != 0},
                                 {"content_sha256", nullableText(r, 10)},
                                 {"deleted_at", nullableInt(r, 11)}});
    }
    out["audit"] = nlohmann::json::array();
    soci::rowset<soci::row> audit =
        (sql.prepare << "SELECT seq, at, action, object_ref, COALESCE(decision, '') FROM audit_log "
                        "WHERE user_id = :u ORDER BY seq",
         soci::use(uid));
    for (const auto& r : audit) {
      out["audit"].push_back({{"seq", integerAt(r, 0)},
                              {"at", integerAt(r, 1)},
                              {"action", textAt(r, 2)},
                              {"object_ref", textAt(r, 3)},
                              {"decision", textAt(r, 4)}});
    }
    return {};
  });
  if (!rows) return std::unexpected(rows.error());
  auto feeds = feeds::FeedStore(*services.db, *services.clock).listForUser(uid);
  if (!feeds) return std::unexpected(feeds.error());
  out["feeds"] = nlohmann::json::array();
  for (const auto& f : *feeds) out["feeds"].push_back(feedJson(f));
  return out;
}

}  // namespace

void addMeRoutes(http::Router& router, Services& services) {
  router.add({"GET", "/v1/me", true, [&services](http::Request& request) {
                auto user = services.users->getUser(callerId(request));
                if (!user) return failure(user.error(), request);
                nlohmann::json body = {{"id", user->id}, {"email", user->email}, {"created_at", user->createdAt}};
                if (request.identity->session) {  // signed in to the portal: no token
                  body["token"] = nullptr;
                  body["session"] = {{"id", request.identity->tokenId}};
                } else {
                  auto caller = services.users->principalOfToken(request.identity->tokenId);
                  if (!caller) return failure(caller.error(), request);
                  const accounts::ApiToken& t = caller->token;
                  body["token"] = {{"id", t.id}, {"label", t.label}, {"created_at", t.createdAt}};
                }
                return http::Response::json(200, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
              }});

  router.add({"GET", "/v1/me/export", true, [&services](http::Request& request) {
                auto user = services.users->getUser(callerId(request));
                if (!user) return failure(user.error(), request);
                auto data = exportUser(services, *user);
                if (!data) return failure(data.error(), request);
                http::Response r = jsonResponse(200, *data);
                r.headers.emplace_back("Content-Disposition", "attachment; filename=\"calgate-export.json\"");
                return r;
              }});

  router.add({"DELETE", "/v1/me", true, [&services](http::Request& request) {
                if (auto ok = stopUserChannels(services, callerId(request)); !ok) return failure(ok.error(), request);
                revokeOAuthAccess(services, callerId(request));
                auto erased = accounts::eraseUser(*services.db, *services.clock, callerId(request), "user", services.hashKey);
                if (!erased) return failure(erased.error(), request);
                return noContent();
              },
              /*outbound=*/true});
}

}  // namespace calgate::api
