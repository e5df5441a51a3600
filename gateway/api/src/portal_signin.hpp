#pragma once
// Finishing a portal sign-in with Google or Microsoft at the shared OAuth callback (portal_routes.cpp).

#include "calgate/api/routes.hpp"

#include <map>
#include <optional>
#include <string>

namespace calgate::api {

/// The callback's answer when its `state` belongs to a portal sign-in (a session, or a page saying
/// why not); nullopt when it belongs to an account connection.
std::optional<http::Response> finishPortalSignIn(Services& services, const http::Request& request,
                                                 const std::map<std::string, std::string>& query);

}  // namespace calgate::api
