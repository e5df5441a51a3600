// The portal's sessions (portal::SessionStore) as the REST API sees them:
//   GET    /v1/session           the session this browser is signed in with, and its CSRF token
//   DELETE /v1/session           signs out (the cookie is removed)
//   GET    /v1/me/sessions       the caller's sessions (any credential: an API token can see them)
//   DELETE /v1/me/sessions/{id}  ends one ("sign out that browser")
// and the dispatcher's session authenticator: the cookie admits a request to any authenticated
// route; one that changes anything must carry the CSRF token in X-CSRF-Token (another site can
// make a browser send the cookie, but cannot read the token), and an Origin, when the browser
// sends one, must be calgate's own.

#include "calgate/core/hash.hpp"
#include "calgate/core/log.hpp"
#include "calgate/portal/session_store.hpp"
#include "support.hpp"

namespace calgate::api {
namespace {

http::Response csrfRefused(std::string detail) {
  return http::problem(403, "csrf", "Forbidden", std::move(detail));
}

nlohmann::json sessionJson(const portal::Session& s, bool current) {
  return {{"id", s.id},         {"via", s.via},
          {"client", s.client}, {"created_at", s.createdAt},
          {"last_seen_at", s.lastSeenAt}, {"expires_at", s.expiresAt},
          {"current", current}};
}

bool isCurrent(const http::Request& request, const std::string& sessionId) {
  return request.identity && request.identity->session && request.identity->tokenId == sessionId;
}

http::Response current(Services& services, http::Request& request) {
  if (!request.identity->session) {
    return http::problem(404, "no-session", "Not Found", "this request was made with an API token, not a portal session");
  }
  auto sessions = services.sessions->list(callerId(request));
  if (!sessions) return failure(sessions.error(), request);
  auto user = services.users->getUser(callerId(request));
  if (!user) return failure(user.error(), request);
  for (const auto& s : *sessions) {
    if (s.id != request.identity->tokenId) continue;
    nlohmann::json out = {{"user", {{"id", user->id}, {"email", user->email}}},
                          {"session", {{"id", s.id}, {"via", s.via}, {"created_at", s.createdAt}, {"expires_at", s.expiresAt}}},
                          {"csrf_token", portal::csrfToken(cookieValue(request, sessionCookieName(services)))}};
    http::Response r = jsonResponse(200, out);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }
  return notFound();  // ended between authentication and now
}

http::Response endSession(Services& services, http::Request& request, const std::string& sessionId) {
  if (auto ok = services.sessions->revoke(callerId(request), sessionId); !ok) {
    return ok.error().code == core::ErrorCode::NotFound ? notFound() : failure(ok.error(), request);
  }
  auditCaller(services, request, "portal.signout", "session/" + sessionId, "ended");
  http::Response r = noContent();
  if (isCurrent(request, sessionId)) {
    r.headers.emplace_back("Set-Cookie", setCookie(services, sessionCookieName(services), "", "/", 0));
  }
  return r;
}

http::Response list(Services& services, http::Request& request) {
  auto sessions = services.sessions->list(callerId(request));
  if (!sessions) return failure(sessions.error(), request);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : *sessions) out.push_back(sessionJson(s, isCurrent(request, s.id)));
  return jsonResponse(200, {{"sessions", out}});
}

// The routes' answer while the server has no session store (it always has one when serving).
std::optional<http::Response> withoutSessions(const Services& services) {
  if (services.sessions) return std::nullopt;
  return http::problem(503, "unavailable", "Service Unavailable", "portal sessions are not available");
}

}  // namespace

http::SessionAuthenticator sessionAuthenticator(const Services& services) {
  return [&services](const http::Request& request) -> std::optional<std::variant<http::Identity, http::Response>> {
    if (!services.sessions) return std::nullopt;
    const std::string secret = cookieValue(request, sessionCookieName(services));
    if (secret.empty()) return std::nullopt;
    auto session = services.sessions->authenticate(secret);
    if (!session) {
      if (session.error().code == core::ErrorCode::Unauthorized) return std::nullopt;  // 401, as without a cookie
      core::log::error("http.auth_unavailable", {{"request_id", request.requestId}, {"error", session.error().message}});
      return http::problem(503, "unavailable", "Service Unavailable", "authentication is temporarily unavailable");
    }
    if (request.method != "GET" && request.method != "HEAD") {
      if (const auto origin = request.header("origin"); origin && *origin != services.publicUrl) {
        return csrfRefused("this request came from another site");
      }
      const auto token = request.header("x-csrf-token");
      if (!token || !core::constantTimeEquals(*token, portal::csrfToken(secret))) {
        return csrfRefused("a signed-in browser's request must carry the session's X-CSRF-Token (GET /v1/session)");
      }
    }
    return http::Identity{session->userId, session->id, true};
  };
}

void addSessionRoutes(http::Router& router, Services& services) {
  router.add({"GET", "/v1/session", true, [&services](http::Request& request) {
                if (auto none = withoutSessions(services)) return *none;
                return current(services, request);
              }});
  router.add({"DELETE", "/v1/session", true, [&services](http::Request& request) {
                if (auto none = withoutSessions(services)) return *none;
                if (!request.identity->session) {
                  return http::problem(404, "no-session", "Not Found",
                                       "this request was made with an API token, not a portal session");
                }
                return endSession(services, request, request.identity->tokenId);
              }});
  router.add({"GET", "/v1/me/sessions", true, [&services](http::Request& request) {
                if (auto none = withoutSessions(services)) return *none;
                return list(services, request);
              }});
  router.add({"DELETE", "/v1/me/sessions/{id}", true, [&services](http::Request& request) {
                if (auto none = withoutSessions(services)) return *none;
                return endSession(services, request, request.params["id"]);
              }});
}

}  // namespace calgate::api
