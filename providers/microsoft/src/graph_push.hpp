#pragma once
// Change-notification subscriptions of the Graph adapter (CONTRACT.md §2 "Subscriptions"):
// created on one calendar's events (Graph validates both URLs before it answers), renewed by
// PATCH, reauthorized, deleted. Private to the adapter; GraphProvider's watch methods call these.

#include "graph_api.hpp"

#include "calgate/providers/microsoft/graph_instant.hpp"
#include "calgate/providers/provider.hpp"

namespace calgate::providers::microsoft {

/// POST subscriptions for `calendarId`'s events: changeType created,updated,deleted, the
/// request's address and lifecycle address, its token as clientState (at most 128 characters).
/// The answer must carry an id and an expiration in the future, never later than asked.
core::Result<Watch> createSubscription(Api& api, const std::string& calendarId, const WatchRequest& request);
/// PATCH the expiration; the answer's expirationDateTime is the one granted.
core::Result<Watch> renewSubscription(Api& api, const Watch& watch, std::chrono::sys_seconds expiresAt);
/// POST subscriptions/{id}/reauthorize.
core::Result<void> reauthorizeSubscription(Api& api, const Watch& watch);
/// DELETE; one Graph no longer knows (404) is done.
core::Result<void> deleteSubscription(Api& api, const Watch& watch);

}  // namespace calgate::providers::microsoft
