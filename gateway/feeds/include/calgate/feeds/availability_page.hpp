#pragma once
/// The availability page of a feed (`/availability/{token}`), the web view of what its ICS link
/// gives a calendar app: one week, Monday to Sunday in the feed's time zone, day by day, each busy
/// block as its times and the feed's label, free days saying so; nothing of the events but their
/// times. Plain HTML that works at phone width and with the keyboard: no script, no external
/// resource, one inline stylesheet allowed by its hash (availabilityCsp()). A PIN-protected feed
/// shows a PIN form first. Everything from outside (the label) is HTML-escaped. Pure; thread-safe.

#include "calgate/core/error.hpp"
#include "calgate/feeds/busy_calendar.hpp"
#include "calgate/providers/provider.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace calgate::feeds {

/// One week of a feed, as shown.
struct AvailabilityWeek {
  std::chrono::sys_days monday{};  ///< the week's Monday (a date in `zone`)
  std::string zone = "UTC";        ///< IANA: times and days are shown in it
  providers::TimeWindow window{};  ///< the week as UTC instants: [Monday 00:00, next Monday 00:00)
};

/// The week holding `day` (any day: its Monday) in `zone`. Invalid for an unknown zone.
core::Result<AvailabilityWeek> weekOf(std::chrono::sys_days day, std::string_view zone);

/// "YYYY-MM-DD" (a week's day, from a query or a form); nullopt for anything else.
std::optional<std::chrono::sys_days> parseDay(std::string_view text);

struct AvailabilityPage {
  std::string label;                     ///< the feed's label (shown with every block)
  AvailabilityWeek week;
  bool previous = false, next = false;   ///< whether the weeks around are inside the feed's window
  std::optional<std::string> pin{};      ///< a PIN feed: the PIN, carried by the week buttons (POST)
};

/// The week's page with `blocks` (any order; those outside the week are left out).
std::string renderAvailability(const std::vector<BusyBlock>& blocks, const AvailabilityPage& page);

/// The PIN form of a PIN-protected feed, with `message` ("" at first, else why it was refused).
std::string renderPinForm(std::string_view message, std::string_view week);

/// The Content-Security-Policy of these pages: nothing but their own inline stylesheet (by hash)
/// and forms posting to themselves.
const std::string& availabilityCsp();

}  // namespace calgate::feeds
