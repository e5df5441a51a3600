// Connecting Google and Microsoft 365 accounts through OAuth 2.0 (accounts::OAuthConnections):
//   POST /v1/accounts/oauth/{provider}  (API token) -> a one-time start link for the user's browser
//   GET  /oauth/start/{handoff}         (browser)   -> a page naming the calgate user the account
//                                                      will belong to, with a "continue" button
//   POST /oauth/start/{handoff}         (browser)   -> (same origin only) binds the sign-in to that
//                                                      browser (cookie), redirects to the provider
//   GET  /oauth/callback                (browser)   -> the provider's redirect back: the account is
//                                                      connected (or re-authorised) and a small page
//                                                      says what happened
// The browser pages are plain HTML (the web portal takes over later); every message in them is
// escaped. Nothing is stored when a step fails.

#include "calgate/accounts/oauth_connections.hpp"
#include "calgate/accounts/token_broker.hpp"
#include "calgate/accounts/user_store.hpp"
#include "calgate/core/html.hpp"
#include "calgate/core/log.hpp"
#include "support.hpp"

namespace calgate::api {
namespace {

constexpr std::string_view kCookie = "calgate_oauth";


/// A small page; with `action`, a form posting to it with one button labelled `button`.
http::Response page(int status, std::string_view title, std::string_view message, std::string_view action = {},
                    std::string_view button = {}) {
  std::string form;
  if (!action.empty()) {
    form = "<form method=\"post\" action=\"" + core::htmlEscape(action) + "\"><button type=\"submit\">" + core::htmlEscape(button) +
           "</button></form>";
  }
  std::string body = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + core::htmlEscape(title) +
                     " - calgate</title></head><body><main><h1>" + core::htmlEscape(title) + "</h1><p>" + core::htmlEscape(message) +
                     "</p>" + form + "</main></body></html>\n";
  http::Response r = http::Response::text(status, std::move(body), "text/html; charset=utf-8");
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  return r;
}

std::string cookie(const Services& services, std::string_view value, int maxAge) {
  std::string out = std::string(kCookie) + "=" + std::string(value) + "; Path=/oauth; HttpOnly; SameSite=Lax; Max-Age=" +
                    std::to_string(maxAge);
  if (services.publicUrl.starts_with("https://")) out += "; Secure";
  return out;
}

// The value of our cookie in a Cookie header ("a=1; calgate_oauth=x"), or "".
std::string cookieValue(const http::Request& request) {
  const auto header = request.header("cookie");
  if (!header || header->size() > 4096) return {};
  std::string_view rest = *header;
  while (!rest.empty()) {
    std::string_view part = rest.substr(0, rest.find(';'));
    rest = part.size() == rest.size() ? std::string_view() : rest.substr(part.size() + 1);
    while (part.starts_with(" ")) part.remove_prefix(1);
    if (part.starts_with(kCookie) && part.size() > kCookie.size() && part[kCookie.size()] == '=') {
      return std::string(part.substr(kCookie.size() + 1));
    }
  }
  return {};
}

std::string providerTitle(model::ProviderKind kind) {
  return kind == model::ProviderKind::Microsoft ? "Microsoft 365" : "Google";
}

http::Response begin(Services& services, http::Request& request) {
  if (auto ok = requireVault(services); !ok) return ok.error();
  const auto kind = model::parseProviderKind(request.params["provider"]);
  if (!kind) return http::problem(404, "not-found", "Not Found", "no such provider: google or microsoft");
  if (!request.body.empty()) {
    auto body = readJsonObject(request);
    if (!body) return body.error();
    if (auto ok = ObjectReader(*body).only({}); !ok) return ok.error();
  }
  if (*kind == model::ProviderKind::CalDav) {
    return http::problem(422, "provider-not-supported", "Unprocessable Content",
                         "CalDAV accounts connect with POST /v1/accounts (server URL, username, app-specific password)");
  }
  const std::string name(model::toString(*kind));
  if (services.oauth && !services.oauth->offers(*kind)) {
    if (const auto reason = services.oauth->awaitingReason(*kind)) {
      // configured, but its sign-in service did not answer: calgate keeps trying in the background
      auto r = http::problem(503, "unavailable", "Service Unavailable",
                             providerTitle(*kind) + " accounts cannot be connected right now: " + providerTitle(*kind) +
                                 "'s sign-in service did not answer calgate (" + *reason +
                                 "); calgate keeps trying, try again in a minute");
      r.headers.emplace_back("Retry-After", "60");
      return r;
    }
  }
  if (services.publicUrl.empty() || !services.oauth || !services.oauth->offers(*kind)) {
    return http::problem(422, "provider-not-configured", "Unprocessable Content",
                         name + " accounts cannot be connected on this gateway: its operator has not registered "
                                "calgate with " + name + " (see docs/operations.md)");
  }
  if (auto over = overLimit(countOf(services.accounts->listForUser(callerId(request))),
                            services.limits.accountsPerUser, "calendar accounts", "accounts_per_user", request)) {
    return *over;
  }
  auto start = services.oauth->begin(callerId(request), *kind);
  if (!start) return failure(start.error(), request);
  return jsonResponse(200, {{"authorization_url", services.publicUrl + "/oauth/start/" + start->handoff},
                            {"expires_at", start->expiresAt}});
}


// A start link opened in a browser: who the account will belong to, and a button. Nothing is used
// up: a link mailed to someone else shows whose calgate it would join before anything happens.
http::Response confirmStart(Services& services, http::Request& request) {
  if (!services.oauth) return page(503, "Not available", "calgate is starting or its vault is closed; try again shortly.");
  const std::string handoff = request.params["handoff"];
  auto pending = services.oauth->describe(handoff);
  if (!pending) {
    if (pending.error().code != core::ErrorCode::Invalid) {  // the store's trouble, not the link's: not shown
      core::log::error("oauth.start_failed", {{"request_id", request.requestId}, {"error", pending.error().describe()}});
      return page(500, "Something went wrong", "The sign-in could not be started. Try again later.");
    }
    return page(400, "This link cannot be used", pending.error().message);
  }
  auto user = services.users->getUser(pending->userId);
  if (!user) return page(400, "This link cannot be used", "the calgate user who started it no longer exists");
  const std::string provider = providerTitle(pending->provider);
  return page(200, "Connect a " + provider + " account",
              "You are about to connect a " + provider + " account to the calgate user " + user->email +
                  ". Continue only if that is you; you will sign in at " + provider + " next.",
              "/oauth/start/" + handoff, "Continue to " + provider);
}

// The button: only from calgate's own page (a form another site posts carries its own Origin).
http::Response start(Services& services, http::Request& request) {
  if (!services.oauth) return page(503, "Not available", "calgate is starting or its vault is closed; try again shortly.");
  const auto origin = request.header("origin");
  if (!origin || services.publicUrl.empty() || *origin != services.publicUrl) {
    return page(403, "This link cannot be used", "Open the start link itself and use its button to continue.");
  }
  auto opened = services.oauth->handoff(request.params["handoff"]);
  if (!opened) {
    if (opened.error().code != core::ErrorCode::Invalid) {
      core::log::error("oauth.start_failed", {{"request_id", request.requestId}, {"error", opened.error().describe()}});
      return page(500, "Something went wrong", "The sign-in could not be started. Try again later.");
    }
    return page(400, "This link cannot be used", opened.error().message);
  }
  http::Response r = page(303, "Signing in", "Continue at your provider.");
  r.headers.emplace_back("Location", opened->providerUrl);
  r.headers.emplace_back("Set-Cookie", cookie(services, opened->browserSecret, 900));
  return r;
}

http::Response callback(Services& services, http::Request& request) {
  if (!services.oauth) return page(503, "Not available", "calgate is starting or its vault is closed; try again shortly.");
  auto query = parseQuery(request.query);
  std::map<std::string, std::string> params;
  if (query) {
    for (const auto& [k, v] : *query) params[k] = v;
  }
  auto connected = services.oauth->complete(params, cookieValue(request));
  http::Response r;
  if (!connected) {
    const auto& e = connected.error();
    core::log::info("oauth.callback_refused", {{"request_id", request.requestId}, {"code", core::errorCodeName(e.code)},
                                               {"cause", std::string(core::causeName(e.cause))}});
    const bool ours = e.code == core::ErrorCode::Invalid || e.code == core::ErrorCode::Unauthorized;
    r = ours ? page(400, "Nothing was connected", e.message)
             : page(502, "Nothing was connected", "The provider could not be reached or failed; try again later.");
  } else {
    if (services.tokens) services.tokens->forget(connected->account.id);  // tokens of the old grant
    sync::CalendarStore calendars(*services.db, *services.clock);
    for (const auto& c : connected->calendars) {
      if (auto saved = calendars.upsert(connected->account.id, c); !saved) {
        if (!connected->reauthorised) (void)services.accounts->remove(connected->account.id);  // all or nothing
        return page(500, "Nothing was connected", "The calendars could not be saved; try again later.");
      }
    }
    auto owner = services.users->getUser(connected->account.userId);
    const std::string what = providerTitle(connected->account.provider) + " account " + connected->account.email;
    const std::string whose = " (calgate user " + (owner ? owner->email : connected->account.userId) + ")";
    r = page(200, connected->reauthorised ? "Connected again" : "Connected",
             what + whose +
                 (connected->reauthorised ? " is connected again; its pairs resume."
                                          : " is connected with " + std::to_string(connected->calendars.size()) +
                                                " calendars.") +
                 " You can close this window.");
  }
  r.headers.emplace_back("Set-Cookie", cookie(services, "", 0));  // used up either way
  return r;
}

}  // namespace

void addOAuthRoutes(http::Router& router, Services& services) {
  router.add({"POST", "/v1/accounts/oauth/{provider}", true,
              [&services](http::Request& request) { return begin(services, request); }});
  router.add({"GET", "/oauth/start/{handoff}", false,
              [&services](http::Request& request) { return confirmStart(services, request); }});
  router.add({"POST", "/oauth/start/{handoff}", false,
              [&services](http::Request& request) { return start(services, request); }});
  router.add({"GET", "/oauth/callback", false, [&services](http::Request& request) { return callback(services, request); },
              /*outbound=*/true});
}

}  // namespace calgate::api
