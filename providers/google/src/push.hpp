#pragma once
// Push channels of the Google adapter (CONTRACT.md §1 "Push (watch)"): events.watch and
// channels.stop. Private to the adapter; GoogleProvider::watch/unwatch call these.

#include "api.hpp"

namespace calgate::providers::google {

/// Opens a web_hook channel on the calendar's events. Invalid for a request outside Google's
/// limits (checked before sending) or an answer that does not name the channel asked for, a
/// resource id and an expiration in the future.
core::Result<Watch> openChannel(Api& api, const std::string& calendarId, const WatchRequest& request);

/// Stops a channel; one Google no longer knows (404) is done.
core::Result<void> stopChannel(Api& api, const Watch& watch);

}  // namespace calgate::providers::google
