#pragma once
/// Renders an availability feed: one VEVENT per busy block, with nothing of the events but their
/// times - no titles, descriptions, locations, attendees, organisers or source UIDs. Series are
/// expanded into their occurrences inside the window; free (transparent) and cancelled events are
/// left out; blocks with identical times (a copy and its source in two calendars) appear once.

#include "calgate/core/error.hpp"
#include "calgate/model/event.hpp"
#include "calgate/providers/provider.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace calgate::feeds {

struct BusyBlock {
  bool allDay = false;
  std::chrono::sys_seconds start{};  ///< timed blocks (UTC)
  std::chrono::sys_seconds end{};
  std::chrono::sys_days startDay{};  ///< all-day blocks; endDay exclusive
  std::chrono::sys_days endDay{};
  std::string uid;  ///< opaque: a hash of the feed, calendar, event and occurrence
};

/// The busy blocks of one calendar's events (as a provider listing delivers them) overlapping
/// `window`. `uidSalt` makes UIDs unlinkable across feeds (the feed id + calendar id).
/// `floatingZone` anchors floating times (the calendar's zone). A series that cannot be expanded
/// blocks its first occurrence. Never truncated (a feed that left blocks out would show busy time
/// as free): more than `maxBlocks` blocks, or a series generating more than that many
/// occurrences, is Invalid with cause BudgetExceeded.
core::Result<std::vector<BusyBlock>> busyBlocks(const std::vector<model::Event>& events,
                                                const providers::TimeWindow& window, std::string_view uidSalt,
                                                std::string_view floatingZone, std::size_t maxBlocks = 20000);

/// The iCalendar text (RFC 5545, CRLF, folded lines): blocks sorted and de-duplicated by time,
/// each titled `label`.
std::string renderBusyCalendar(std::vector<BusyBlock> blocks, std::string_view label, std::chrono::sys_seconds now);

}  // namespace calgate::feeds
