#pragma once
/// The provider-neutral event model (DESIGN.md §3). Adapters translate each provider's
/// representation to and from this; the policy evaluator reads and strips it. Fields the
/// product does not sync (reminders/alarms, attachments, conference data, categories,
/// colours, RSVP status) have no place here, so they cannot travel.

#include "calgate/core/error.hpp"
#include "calgate/model/provider_kind.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace calgate::model {

/// An all-day date. As an event end it is exclusive (the day after the last day).
struct Date {
  std::chrono::year_month_day day;
  friend bool operator==(const Date&, const Date&) = default;
};

/// An instant with the IANA zone it was expressed in ("UTC" for UTC).
struct ZonedTime {
  std::chrono::sys_seconds instant;
  std::string zone = "UTC";
  friend bool operator==(const ZonedTime&, const ZonedTime&) = default;
};

/// A wall-clock time with no zone (RFC 5545 "floating" time): the same local time everywhere.
struct FloatingTime {
  std::chrono::local_seconds local;
  friend bool operator==(const FloatingTime&, const FloatingTime&) = default;
};

using EventTime = std::variant<Date, ZonedTime, FloatingTime>;

enum class Status { Confirmed, Tentative, Cancelled };
enum class ShowAs { Free, Tentative, Busy, OutOfOffice, WorkingElsewhere };
/// The union of the providers' privacy vocabularies: Google default/public/private/confidential,
/// Graph normal/personal/private/confidential, iCalendar PUBLIC/PRIVATE/CONFIDENTIAL.
enum class Sensitivity { Default, Public, Normal, Personal, Private, Confidential };

/// The marker calgate puts on every copy it writes, read back to recognise its own copies
/// (so they are never mirrored back) and to find the source.
struct Origin {
  std::string pairId;
  std::string sourceKey;  ///< identifies the source event within the pair (ids only, no content)
  friend bool operator==(const Origin&, const Origin&) = default;
};

struct Event {
  std::string uid;   ///< iCalendar UID (Google iCalUID, Graph iCalUId)
  std::string id;    ///< the provider's id (Google event id, Graph id, CalDAV href)
  std::string etag;
  std::string title;
  std::string description;
  std::string location;
  EventTime start = ZonedTime{};
  EventTime end = ZonedTime{};
  std::vector<std::string> recurrence;    ///< RRULE / EXDATE / RDATE lines, no DTSTART
  std::optional<EventTime> recurrenceId;  ///< set on an occurrence or exception of a series
  std::string seriesId;                   ///< the provider id of the series master, if an occurrence
  Status status = Status::Confirmed;
  ShowAs showAs = ShowAs::Busy;
  Sensitivity sensitivity = Sensitivity::Default;
  std::vector<std::string> attendees;  ///< email addresses only; no names, no RSVP status
  std::string organizer;               ///< email address
  int sequence = 0;
  std::optional<std::chrono::sys_seconds> updated;
  std::optional<Origin> origin;

  bool allDay() const { return std::holds_alternative<Date>(start); }
};

/// Builds a ZonedTime from a wall-clock time in an IANA zone, as RFC 5545 §3.3.5 reads it: a
/// time skipped by a DST change uses the offset before the gap; a repeated time means its first
/// occurrence. Invalid for an unknown zone.
core::Result<ZonedTime> zonedFromLocal(std::chrono::local_seconds local, std::string_view zone);

/// The wall-clock time of `t` in its own zone.
std::chrono::local_seconds localTimeOf(const ZonedTime& t);

/// True when `zone` names an IANA time zone known to this system.
bool isKnownZone(std::string_view zone);

/// "2026-11-21"
std::string formatDate(const std::chrono::year_month_day& day);
/// "2026-11-21T10:30:00" (no zone designator)
std::string formatLocal(std::chrono::local_seconds local);
/// "2026-11-21T09:30:00Z"
std::string formatUtc(std::chrono::sys_seconds instant);

std::string_view toString(Status s);
std::string_view toString(ShowAs s);
/// The inverse of toString(ShowAs); nullopt for any other text.
std::optional<ShowAs> showAsFromString(std::string_view s);
std::string_view toString(Sensitivity s);

}  // namespace calgate::model
