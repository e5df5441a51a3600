#pragma once
/// Google Calendar v3 JSON -> model, defensively: every field is type-checked, times are parsed
/// strictly (RFC 3339 with an offset, or a date), and an item that does not make sense is refused
/// with a reason a user can act on, never read as an event with empty fields. Internal to the
/// adapter; here for tests and fuzzing.

#include "calgate/core/error.hpp"
#include "calgate/model/event.hpp"
#include "calgate/providers/json_fields.hpp"

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace calgate::providers::google {

/// Defensive field access (providers/json_fields.hpp): wrong types read as absent.
using providers::arrayField;
using providers::stringField;

/// "2026-03-02T09:00:00+01:00", "...Z", with optional fraction: the instant; nullopt for anything
/// else (a time without offset, a bad date, trailing text).
std::optional<std::chrono::sys_seconds> parseRfc3339(std::string_view text);

/// RFC 3339 in UTC, as Google's query parameters take it: "2026-03-02T08:00:00Z".
std::string rfc3339(std::chrono::sys_seconds instant);

/// An EventDateTime: {date} -> Date; {dateTime, timeZone?} -> ZonedTime in timeZone, else in
/// `fallbackZone` (the calendar's). Invalid for a malformed value or an unknown zone.
core::Result<model::EventTime> readEventTime(const nlohmann::json& value, std::string_view fallbackZone);

/// What an events.list / events.get item is.
enum class ItemKind {
  Event,               ///< a full event (single, series master, or a changed occurrence)
  Deleted,             ///< a cancelled item without recurringEventId: the event is gone
  CancelledOccurrence, ///< a cancelled occurrence of a series (recurringEventId + originalStartTime)
  Ignored,             ///< an event type calgate does not copy (birthday, workingLocation)
};

/// The kind of an item; Invalid when it has no string id.
core::Result<ItemKind> itemKind(const nlohmann::json& item);

/// A full event item -> model::Event (id, etag, uid, fields, times, recurrence, status, free/busy,
/// visibility, attendees, organizer, sequence, updated, origin marker). An occurrence
/// (recurringEventId) gets recurrenceId = originalStartTime and id/seriesId = the series id.
/// Invalid, with the reason, for an item that cannot be read.
core::Result<model::Event> readEvent(const nlohmann::json& item, std::string_view calendarZone);

/// The recurrence id (originalStartTime) of an occurrence item, in the master's terms.
core::Result<model::EventTime> readOriginalStart(const nlohmann::json& item, std::string_view calendarZone);

}  // namespace calgate::providers::google
