#include "calgate/gateway/api/routes.hpp"

#include <nlohmann/json.hpp>

namespace calgate::gateway::api {

void addSystemRoutes(http::Router& router, Services& services) {
  router.add({"GET", "/healthz", false, [](http::Request&) {
                return http::Response::json(200, R"({"status":"ok"})");
              }});

  router.add({"GET", "/readyz", false, [&services](http::Request&) {
                if (auto ping = services.db.ping(); !ping) {
                  return http::problem(503, "not-ready", "Service Unavailable",
                                       "database unreachable: " + ping.error().message);
                }
                auto status = services.migrator.status();
                if (!status) {
                  return http::problem(503, "not-ready", "Service Unavailable", status.error().message);
                }
                if (!status->current()) {
                  return http::problem(503, "not-ready", "Service Unavailable", status->problem());
                }
                nlohmann::json body = {{"status", "ready"},
                                       {"database", "ok"},
                                       {"schema_version", status->latestKnown}};
                return http::Response::json(200, body.dump());
              }});

  router.add({"GET", "/metrics", false, [&services](http::Request&) {
                return http::Response::text(200, services.metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
              }});
}

http::Router buildRouter(Services& services) {
  http::Router router;
  addSystemRoutes(router, services);
  addMeRoutes(router, services);
  return router;
}

}  // namespace calgate::gateway::api
