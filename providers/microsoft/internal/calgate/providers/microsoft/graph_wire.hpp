#pragma once
/// Microsoft Graph v1.0 wire values (event JSON, Retry-After) -> model, defensively: every field is type-checked, times are
/// parsed strictly (Graph's dateTimeTimeZone: a wall time without offset and a Windows or IANA
/// zone), and an item that does not make sense is refused with a reason a user can act on, never
/// read as an event with empty fields. Internal to the adapter; here for tests and fuzzing.

#include "calgate/core/error.hpp"
#include "calgate/model/event.hpp"

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace calgate::providers::microsoft {

/// The IANA zone of a Graph `timeZone`: a Windows name (through ICU, model/zone_names.hpp), an
/// IANA name, or "tzone://Microsoft/Utc"; nullopt for anything else ("tzone://Microsoft/Custom"
/// included: such an event is read through Prefer: outlook.timezone="UTC" instead).
std::optional<std::string> ianaZoneOf(std::string_view graphZone);

/// A dateTimeTimeZone -> the instant in its zone; an all-day value -> its Date. Invalid for a
/// malformed value ("2026-03-02T09:00:00" with an optional fraction of up to 7 digits, no offset)
/// or an unknown zone.
core::Result<model::EventTime> readGraphTime(const nlohmann::json& value, bool allDay);

/// A Retry-After value as Graph sends it: seconds, possibly fractional ("2.128"); nullopt for
/// anything else (an HTTP-date, a negative or absurd value).
std::optional<std::chrono::milliseconds> parseRetryAfterSeconds(std::string_view value);

/// What a calendarView delta item is.
enum class GraphItemKind {
  Event,    ///< a single instance, an occurrence or an exception: an event of its own
  Removed,  ///< {"id", "@removed"}: deleted, or no longer in the window
  Ignored,  ///< a series master (calendarView never lists one; skipped if it does)
};

/// The kind of an item; Invalid when it has no string id.
core::Result<GraphItemKind> graphItemKind(const nlohmann::json& item);

/// An event item -> model::Event: id, etag (@odata.etag), uid (iCalUId; an occurrence's carries
/// its original start so each occurrence is an event of its own), subject, body (HTML reduced to
/// text), location, times (the instant in the zone of originalStartTimeZone / originalEndTimeZone
/// where calgate knows it, else in the zone the answer names), isCancelled, showAs, sensitivity, attendees and organizer addresses,
/// lastModifiedDateTime, the origin marker when singleValueExtendedProperties were expanded.
/// Invalid, with the reason, for an item that cannot be read.
core::Result<model::Event> readGraphEvent(const nlohmann::json& item);

}  // namespace calgate::providers::microsoft
