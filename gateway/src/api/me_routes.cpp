#include "calgate/gateway/api/routes.hpp"

#include <nlohmann/json.hpp>

namespace calgate::gateway::api {

void addMeRoutes(http::Router& router, Services&) {
  router.add({"GET", "/v1/me", true, [](http::Request& request) {
                const Principal& p = *request.principal;
                nlohmann::json body = {
                    {"id", p.user.id},
                    {"email", p.user.email},
                    {"created_at", p.user.createdAt},
                    {"token", {{"id", p.token.id}, {"label", p.token.label}, {"created_at", p.token.createdAt}}}};
                return http::Response::json(200, body.dump());
              }});
}

}  // namespace calgate::gateway::api
