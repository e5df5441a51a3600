#include "calgate/api/routes.hpp"

#include "calgate/core/log.hpp"

#include <nlohmann/json.hpp>

namespace calgate::api {

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

  router.add({"GET", "/metrics", false, [&services](http::Request&) {
                return http::Response::text(200, services.metrics->render(), "text/plain; version=0.0.4; charset=utf-8");
              }});
}

http::Router buildRouter(Services& services) {
  http::Router router;
  addSystemRoutes(router, services);
  addMeRoutes(router, services);
  addAccountRoutes(router, services);
  addPairRoutes(router, services);
  addPolicyRoutes(router, services);
  addFeedRoutes(router, services);
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
