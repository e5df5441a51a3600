// The web portal (gateway/portal): a single page of plain HTML, CSS and JavaScript on the REST
// API, embedded in the binary, and the ways to sign in to it.
//   GET  /portal                      the page (index.html); /portal/ redirects here
//   GET  /portal/{file}               its stylesheet and scripts (ETag; If-None-Match -> 304)
//   GET  /portal/config               what the sign-in view offers (unauthenticated)
//   POST /portal/signin/{provider}    (same origin only) starts a sign-in with Google or Microsoft:
//                                     {"url"} to send the browser to, and a cookie binding it
//   GET  /oauth/callback              (oauth_routes.cpp) the provider's redirect back: a session
//   GET  /portal/link/{secret}        a one-time sign-in link: whose it is, and a button
//   POST /portal/link/{secret}        (same origin only) uses it up: a session
// A session is a new HttpOnly cookie at every sign-in (a session the browser held before is
// ended: no fixation); the portal's requests to /v1 carry its CSRF token (session_routes.cpp).

#include "calgate/audit/audit_log.hpp"
#include "calgate/core/log.hpp"
#include "calgate/portal/assets.hpp"
#include "calgate/portal/login_links.hpp"
#include "calgate/portal/oidc_signin.hpp"
#include "calgate/portal/portal_config.hpp"
#include "calgate/portal/session_store.hpp"
#include "portal_signin.hpp"
#include "support.hpp"

namespace calgate::api {
namespace {

constexpr std::string_view kSignInCookie = "calgate_signin";
constexpr std::string_view kPortalCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

void securityHeaders(http::Response& r) {
  r.headers.emplace_back("Content-Security-Policy", std::string(kPortalCsp));
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
}

// If-None-Match: "*", or a list of tags, weak ones (W/"...", as a compressing proxy makes them) too.
bool matchesEtag(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    std::string_view tag = header.substr(0, header.find(','));
    header.remove_prefix(std::min(header.size(), tag.size() + 1));
    while (tag.starts_with(" ")) tag.remove_prefix(1);
    while (tag.ends_with(" ")) tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag || tag == "*") return true;
  }
  return false;
}

http::Response serveAsset(const http::Request& request, std::string_view name) {
  const portal::Asset* asset = portal::findAsset(name);
  if (!asset) return http::problem(404, "not-found", "Not Found", "no resource at this path");
  const std::string etag = "\"" + std::string(asset->sha256Hex.substr(0, 32)) + "\"";
  http::Response r;
  if (const auto match = request.header("if-none-match"); match && matchesEtag(*match, etag)) {
    r.status = 304;
  } else {
    r = http::Response::text(200, std::string(asset->body), std::string(asset->contentType));
  }
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Cache-Control", "no-cache");  // revalidated: a new binary serves new files at once
  securityHeaders(r);
  return r;
}

// A browser form or fetch of the portal's own pages (another site's carries its own Origin).
bool sameOrigin(const Services& services, const http::Request& request) {
  const auto origin = request.header("origin");
  return origin && !services.publicUrl.empty() && *origin == services.publicUrl;
}

std::optional<http::Response> overRate(Services& services, const http::Request& request) {
  if (!services.signInLimiter) return std::nullopt;
  if (const auto wait = services.signInLimiter->take("signin:" + request.clientAddress)) {
    http::Response r = http::problem(429, "rate-limited", "Too Many Requests", "too many sign-in attempts; try again later");
    r.headers.emplace_back("Retry-After", std::to_string(wait->count()));
    return r;
  }
  return std::nullopt;
}

void audit(Services& services, const std::string& userId, std::string action, std::string objectRef,
           std::map<std::string, std::string> facts) {
  audit::AuditEntry e;
  e.actor = userId;
  e.userId = userId;
  e.action = std::move(action);
  e.objectRef = std::move(objectRef);
  e.decision = "signed-in";
  e.facts = std::move(facts);
  if (auto ok = audit::AuditLog(*services.db, *services.clock).append(e); !ok) {
    core::log::error("api.audit_failed", {{"action", e.action}, {"error", ok.error().message}});
  }
}

http::Response signInPage(int status, std::string message) {
  return htmlPage(status, {"You are not signed in", std::move(message), "", "", "'self'", "/portal", "Back to sign-in"});
}

// Opens a session for `userId` (ending the one this browser held, if any) and sends it to the
// portal with its cookie.
http::Response openSession(Services& services, const http::Request& request, const std::string& userId,
                           std::string_view via) {
  const std::string cookieName = sessionCookieName(services);
  if (const auto previous = cookieValue(request, cookieName); !previous.empty()) {
    if (auto old = services.sessions->authenticate(previous)) (void)services.sessions->revoke(old->userId, old->id);
  }
  const auto ua = request.header("user-agent");
  auto opened = services.sessions->open(userId, via, portal::clientLabel(ua ? *ua : std::string_view()));
  if (!opened) {
    core::log::error("portal.session_failed", {{"request_id", request.requestId}, {"error", opened.error().describe()}});
    return signInPage(503, "calgate could not sign you in just now; try again in a minute.");
  }
  audit(services, userId, "portal.signin", "session/" + opened->session.id, {{"via", std::string(via)}});
  http::Response r = htmlPage(303, {"Signed in", "Continue to the portal.", "", "", "'self'", "/portal", "Continue"});
  r.headers.emplace_back("Location", "/portal");
  r.headers.emplace_back("Set-Cookie", setCookie(services, cookieName, opened->secret, "/",
                                                 opened->session.expiresAt - opened->session.createdAt));
  return r;
}

http::Response config(Services& services) {
  nlohmann::json signIn = nlohmann::json::array(), connect = nlohmann::json::array();
  for (const auto kind : {model::ProviderKind::Google, model::ProviderKind::Microsoft}) {
    const std::string name(model::toString(kind));
    if (services.signIn && services.signIn->offers(kind) && !services.publicUrl.empty()) signIn.push_back(name);
    if (services.oauth && services.oauth->offers(kind) && !services.publicUrl.empty()) connect.push_back(name);
  }
  http::Response r = jsonResponse(200, {{"signin_providers", signIn}, {"connect_providers", connect},
                                        {"public_url", services.publicUrl}});
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

http::Response beginSignIn(Services& services, http::Request& request) {
  if (!sameOrigin(services, request)) {
    return http::problem(403, "csrf", "Forbidden", "sign-ins start from calgate's own portal page");
  }
  if (auto limited = overRate(services, request)) return *limited;
  const auto kind = model::parseProviderKind(request.params["provider"]);
  if (!kind || *kind == model::ProviderKind::CalDav || !services.signIn || !services.signIn->offers(*kind) ||
      services.publicUrl.empty()) {
    return http::problem(404, "not-found", "Not Found", "signing in with this provider is not offered here");
  }
  auto start = services.signIn->begin(*kind);
  if (!start) return failure(start.error(), request);
  http::Response r = jsonResponse(200, {{"url", start->url}});
  const auto binding = bindingCookie(services, kSignInCookie);
  r.headers.emplace_back("Set-Cookie", setCookie(services, binding.name, start->browserSecret, binding.path, 900));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

http::Response showLink(Services& services, http::Request& request) {
  if (auto limited = overRate(services, request)) return *limited;
  if (!services.loginLinks) return signInPage(503, "calgate is starting; try again shortly.");
  const std::string secret = request.params["secret"];
  auto userId = services.loginLinks->describe(secret);
  if (!userId) return signInPage(userId.error().code == core::ErrorCode::Invalid ? 400 : 503, userId.error().message);
  auto user = services.users->getUser(*userId);
  if (!user) {
    if (user.error().code == core::ErrorCode::NotFound) return signInPage(400, "this sign-in link's user no longer exists");
    core::log::error("portal.link_failed", {{"request_id", request.requestId}, {"error", user.error().describe()}});
    return signInPage(503, "calgate cannot check this link just now; try again in a minute.");
  }
  return htmlPage(200, {"Sign in to calgate", "This link signs you in as " + user->email +
                                                  ". It works once; continue only if that is you.",
                        "/portal/link/" + secret, "Sign in as " + user->email});
}

http::Response useLink(Services& services, http::Request& request) {
  if (auto limited = overRate(services, request)) return *limited;
  if (!services.loginLinks || !services.sessions) return signInPage(503, "calgate is starting; try again shortly.");
  if (!sameOrigin(services, request)) return signInPage(403, "Open the sign-in link itself and use its button.");
  auto userId = services.loginLinks->consume(request.params["secret"]);
  if (!userId) return signInPage(userId.error().code == core::ErrorCode::Invalid ? 400 : 503, userId.error().message);
  return openSession(services, request, *userId, "link");
}

// The calgate user a proven address signs in as: the existing one, or - for a member of an
// organisation listed in portal.signup_domains - a new one.
core::Result<std::string> userFor(Services& services, const portal::SignedIn& who) {
  auto user = services.users->findUserByEmail(who.email);
  if (user) {
    if (user->disabledAt) return core::fail(core::ErrorCode::Unauthorized, "this calgate user is suspended; ask your operator");
    return user->id;
  }
  if (user.error().code != core::ErrorCode::NotFound) return std::unexpected(user.error());
  const auto& domains = services.portalConfig ? services.portalConfig->signupDomains : std::vector<std::string>{};
  const bool mayJoin = !who.memberDomain.empty() &&
                       std::any_of(domains.begin(), domains.end(),
                                   [&](const std::string& d) { return model::withinDomain(who.memberDomain, d); });
  if (!mayJoin) {
    return core::fail(core::ErrorCode::Unauthorized, "calgate has no user " + who.email +
                                                         "; ask your operator to add you or for a sign-in link");
  }
  auto created = services.users->createUser(who.email);
  if (!created) return std::unexpected(created.error());
  audit(services, created->id, "user.signup", "user/" + created->id, {{"domain", who.memberDomain}});
  return created->id;
}

}  // namespace

std::optional<http::Response> finishPortalSignIn(Services& services, const http::Request& request,
                                                 const std::map<std::string, std::string>& query) {
  const auto state = query.find("state");
  if (!services.signIn || !services.sessions || state == query.end()) return std::nullopt;
  auto owned = services.signIn->owns(state->second);
  if (!owned) {  // the store's trouble: neither a sign-in nor a connection can be finished now
    core::log::error("portal.signin_failed", {{"request_id", request.requestId}, {"error", owned.error().describe()}});
    return signInPage(503, "calgate cannot finish the sign-in just now; try again in a minute.");
  }
  if (!*owned) return std::nullopt;
  const auto binding = bindingCookie(services, kSignInCookie);
  auto who = services.signIn->complete(query, cookieValue(request, binding.name));
  http::Response r;
  if (!who) {
    const auto& e = who.error();
    core::log::info("portal.signin_refused", {{"request_id", request.requestId}, {"code", core::errorCodeName(e.code)},
                                              {"cause", std::string(core::causeName(e.cause))}});
    const bool ours = e.code == core::ErrorCode::Invalid || e.code == core::ErrorCode::Unauthorized;
    r = signInPage(ours ? 400 : 502, ours ? e.message : "the provider could not be reached or failed; try again later");
  } else if (auto userId = userFor(services, *who); !userId) {
    const bool refused = userId.error().code == core::ErrorCode::Unauthorized;
    if (!refused) core::log::error("portal.signin_failed", {{"request_id", request.requestId}, {"error", userId.error().describe()}});
    r = signInPage(refused ? 403 : 503, refused ? userId.error().message : "calgate could not sign you in just now; try again");
  } else {
    // the binding cookie is left to expire (its state is used up): one Set-Cookie per answer
    return openSession(services, request, *userId, model::toString(who->provider));
  }
  r.headers.emplace_back("Set-Cookie", setCookie(services, binding.name, "", binding.path, 0));
  return r;
}

void addPortalRoutes(http::Router& router, Services& services) {
  router.add({"GET", "/portal", false, [](http::Request& request) { return serveAsset(request, "index.html"); }});
  router.add({"GET", "/portal/", false, [](http::Request&) {
                http::Response r = http::Response::text(308, "", "text/plain; charset=utf-8");
                r.headers.emplace_back("Location", "/portal");
                return r;
              }});
  router.add({"GET", "/portal/config", false, [&services](http::Request&) { return config(services); }});
  router.add({"GET", "/portal/{file}", false,
              [](http::Request& request) { return serveAsset(request, request.params["file"]); }});
  router.add({"POST", "/portal/signin/{provider}", false,
              [&services](http::Request& request) { return beginSignIn(services, request); }});
  router.add({"GET", "/portal/link/{secret}", false,
              [&services](http::Request& request) { return showLink(services, request); }});
  router.add({"POST", "/portal/link/{secret}", false,
              [&services](http::Request& request) { return useLink(services, request); }});
}

}  // namespace calgate::api
