#pragma once
/// The REST routes of the gateway, registered on a Router. Each add* function owns one group
/// of routes and documents them in schemas/openapi.yaml.

#include "calgate/gateway/http/metrics.hpp"
#include "calgate/gateway/http/router.hpp"
#include "calgate/gateway/store/database.hpp"
#include "calgate/gateway/store/migrator.hpp"
#include "calgate/gateway/store/user_store.hpp"

namespace calgate::gateway::api {

/// What the handlers need. Everything referenced must outlive the router.
struct Services {
  Database& db;
  Migrator& migrator;
  UserStore& users;
  http::HttpMetrics& metrics;
};

/// GET /healthz (process alive), GET /readyz (database reachable and schema current, else 503),
/// GET /metrics (Prometheus text). Unauthenticated: bind the server to a private address.
void addSystemRoutes(http::Router& router, Services& services);

/// GET /v1/me: the authenticated user and the token used.
void addMeRoutes(http::Router& router, Services& services);

/// All of the above.
http::Router buildRouter(Services& services);

}  // namespace calgate::gateway::api
