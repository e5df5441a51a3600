// Connecting Google and Microsoft 365 accounts through OAuth 2.0 (accounts::OAuthConnections):
//   POST /v1/accounts/oauth/{provider}  (API token) -> a one-time start link for the user's browser
//   GET  /oauth/start/{handoff}         (browser)   -> a page naming the calgate user the account
//                                                      will belong to, with a "continue" button
//   POST /oauth/start/{handoff}         (browser)   -> (same origin only) binds the sign-in to that
//                                                      browser (cookie), redirects to the provider
//   GET  /oauth/callback                (browser)   -> the provider's redirect back: the account is
//                                                      connected (or re-authorised) and a small page
//                                                      says what happened
// The browser pages are plain HTML with a link back to the portal; every message in them is
// escaped. Nothing is stored when a step fails. The callback also finishes a portal sign-in with
// Google or Microsoft (portal_signin.hpp): one redirect URI for both.

#include "calgate/accounts/oauth_connections.hpp"
#include "calgate/accounts/token_broker.hpp"
#include "calgate/accounts/user_store.hpp"
#include "calgate/core/log.hpp"
#include "portal_signin.hpp"
#include "support.hpp"

namespace calgate::api {
namespace {

constexpr std::string_view kCookie = "calgate_oauth";

http::Response page(int status, std::string_view title, std::string_view message) {
  return htmlPage(status, {std::string(title), std::string(message)});
}

// The scheme, host and port of a URL ("https://accounts.google.com"), for a CSP source list.
std::string originOf(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return {};
  return url.substr(0, url.find('/', scheme + 3));
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
  // the button's answer redirects to the provider: a browser applies form-action to that redirect
  std::string formAction = "'self'";
  if (const auto* p = services.oauth->provider(pending->provider)) {
    if (const auto origin = originOf(p->client.endpoints.authorization); !origin.empty()) formAction += " " + origin;
  }
  return htmlPage(200, {"Connect a " + provider + " account",
                        "You are about to connect a " + provider + " account to the calgate user " + user->email +
                            ". Continue only if that is you; you will sign in at " + provider + " next.",
                        "/oauth/start/" + handoff, "Continue to " + provider, formAction});
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
  const auto binding = bindingCookie(services, kCookie);
  r.headers.emplace_back("Set-Cookie", setCookie(services, binding.name, opened->browserSecret, binding.path, 900));
  return r;
}

http::Response callback(Services& services, http::Request& request) {
  if (!services.oauth) return page(503, "Not available", "calgate is starting or its vault is closed; try again shortly.");
  auto query = parseQuery(request.query);
  std::map<std::string, std::string> params;
  if (query) {
    for (const auto& [k, v] : *query) params[k] = v;
  }
  if (auto portal = finishPortalSignIn(services, request, params)) return std::move(*portal);
  const auto binding = bindingCookie(services, kCookie);
  auto connected = services.oauth->complete(params, cookieValue(request, binding.name));
  http::Response r;
  if (!connected) {
    const auto& e = connected.error();
    core::log::info("oauth.callback_refused", {{"request_id", request.requestId}, {"code", core::errorCodeName(e.code)},
                                               {"cause", std::string(core::causeName(e.cause))}});
    const bool ours = e.code == core::ErrorCode::Invalid || e.code == core::ErrorCode::Unauthorized;
    r = htmlPage(ours ? 400 : 502,
                 {"Nothing was connected", ours ? e.message : "The provider could not be reached or failed; try again later.",
                  "", "", "'self'", "/portal#/accounts", "Back to your accounts"});
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
    r = htmlPage(200, {connected->reauthorised ? "Connected again" : "Connected",
                       what + whose +
                           (connected->reauthorised ? " is connected again; its pairs resume."
                                                    : " is connected with " + std::to_string(connected->calendars.size()) +
                                                          " calendars."),
                       "", "", "'self'", "/portal#/accounts", "Back to your accounts"});
  }
  r.headers.emplace_back("Set-Cookie", setCookie(services, binding.name, "", binding.path, 0));  // used up either way
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
