#pragma once
/// iCalendar (RFC 5545) <-> model for CalDAV: CLASS, TRANSP, STATUS and the VCALENDAR
/// written for an event. Rows follow the product's iCloud page: CLASS omitted -> PUBLIC,
/// PRIVATE -> PRIVATE, CONFIDENTIAL -> CONFIDENTIAL; TRANSP carries free/busy.

#include "calgate/providers/event.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace calgate::providers::caldav {

/// Model -> CLASS. Default/Public/Normal -> PUBLIC, Personal/Private -> PRIVATE.
std::string_view classFor(Sensitivity s);
/// CLASS -> model. Omitted -> Public; an x-name or unknown value -> Private (RFC 5545 §3.8.1.3
/// says to treat unrecognised values as PRIVATE).
Sensitivity sensitivityFromClass(std::optional<std::string_view> cls);

/// Model -> TRANSP: Free -> TRANSPARENT, every busy kind -> OPAQUE.
std::string_view transpFor(ShowAs s);
/// TRANSP -> model: TRANSPARENT -> Free; OPAQUE or omitted -> Busy.
ShowAs showAsFromTransp(std::optional<std::string_view> transp);

std::string_view statusFor(Status s);
/// Omitted or unknown -> Confirmed.
Status statusFrom(std::optional<std::string_view> status);

/// VEVENT properties calgate writes / never writes.
const std::vector<std::string_view>& writtenProperties();
const std::vector<std::string_view>& neverWrittenProperties();

/// A complete VCALENDAR holding the event (with the VTIMEZONE of each zone it uses, recurrence
/// TZIDs included). `dtstamp` is required by RFC 5545; `sequence` is the SEQUENCE to write (the
/// adapter passes the stored value + 1 on updates). The origin marker is X-CALGATE-PAIR /
/// X-CALGATE-SOURCE. Invalid for an unknown zone or a malformed recurrence line.
core::Result<std::string> calendarText(const Event& event, std::chrono::sys_seconds dtstamp, int sequence = 0);

}  // namespace calgate::providers::caldav
