#include "calgate/api/routes.hpp"

#include "calgate/core/hash.hpp"
#include "calgate/core/log.hpp"
#include "calgate/http/dispatcher.hpp"

#include <nlohmann/json.hpp>

namespace calgate::api {
namespace {

bool loopbackClient(std::string_view address) {
  return address == "::1" || address.starts_with("127.") || address.starts_with("::ffff:127.");
}

// With a token configured, it must be presented (compared in constant time); without one, only
// clients on this host (a Prometheus scraping over loopback, an operator's curl) are answered.
bool metricsAllowed(const Services& services, const http::Request& request) {
  if (services.metricsToken.empty()) return loopbackClient(request.clientAddress);
  const auto token = http::bearerToken(request);
  return token && core::constantTimeEquals(*token, services.metricsToken);
}

}  // namespace

void addSystemRoutes(http::Router& router, Services& services) {
  router.add({"GET", "/healthz", false, [](http::Request&) {
                return http::Response::json(200, R"({"status":"ok"})");
              }});

  // Unauthenticated: the detail says what is wrong, the driver's text (hosts, users, SQL) goes
  // only to the log under the request id.
  router.add({"GET", "/readyz", false, [&services](http::Request& request) {
                auto notReady = [&](std::string_view detail, const std::string& reason) {
                  core::log::warn("readyz.not_ready", {{"request_id", request.requestId}, {"reason", reason}});
                  return http::problem(503, "not-ready", "Service Unavailable", detail);
                };
                if (auto ping = services.db->ping(); !ping) {
                  return notReady("database unreachable", ping.error().message);
                }
                auto status = services.migrator->status();
                if (!status) return notReady("database unreadable", status.error().message);
                if (!status->current()) return notReady(status->problem(), status->problem());
                nlohmann::json body = {{"status", "ready"},
                                       {"database", "ok"},
                                       {"schema_version", status->latestKnown}};
                return http::Response::json(200, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
              }});

  router.add({"GET", "/metrics", false, [&services](http::Request& request) {
                if (!metricsAllowed(services, request)) {
                  http::Response r = http::problem(401, "unauthorized", "Unauthorized",
                                                   "metrics need the bearer token of server.metrics_token");
                  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"calgate\"");
                  return r;
                }
                return http::Response::text(200, services.metrics->render(), "text/plain; version=0.0.4; charset=utf-8");
              }});
}

http::Router buildRouter(Services& services) {
  http::Router router;
  addSystemRoutes(router, services);
  addMeRoutes(router, services);
  addAccountRoutes(router, services);
  addOAuthRoutes(router, services);
  addPairRoutes(router, services);
  addPolicyRoutes(router, services);
  addFeedRoutes(router, services);
  addWebhookRoutes(router, services);
  addPortalRoutes(router, services);
  addSessionRoutes(router, services);
  return router;
}

http::Authenticator bearerAuthenticator(accounts::UserStore& users) {
  return [&users](std::string_view secret) -> core::Result<http::Identity> {
    auto principal = users.authenticate(secret);
    if (!principal) return std::unexpected(principal.error());
    return http::Identity{principal->user.id, principal->token.id};
  };
}

}  // namespace calgate::api
