#pragma once
/// iCalendar (RFC 5545) <-> model for CalDAV: CLASS, TRANSP, STATUS and the VCALENDAR
/// written for an event. Rows follow the product's iCloud page: CLASS omitted -> PUBLIC,
/// PRIVATE -> PRIVATE, CONFIDENTIAL -> CONFIDENTIAL; TRANSP carries free/busy, and Outlook's
/// X-MICROSOFT-CDO-BUSYSTATUS the finer show-as (tentative, out of office, working elsewhere).

#include "calgate/model/event.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace calgate::providers::caldav {

/// Model -> CLASS. Default/Public/Normal -> PUBLIC, Personal/Private -> PRIVATE.
std::string_view classFor(model::Sensitivity s);
/// CLASS -> model. Omitted -> Public; an x-name or unknown value -> Private (RFC 5545 §3.8.1.3
/// says to treat unrecognised values as PRIVATE).
model::Sensitivity sensitivityFromClass(std::optional<std::string_view> cls);

/// Model -> TRANSP: Free -> TRANSPARENT, every busy kind -> OPAQUE.
std::string_view transpFor(model::ShowAs s);
/// TRANSP -> model: TRANSPARENT -> Free; OPAQUE or omitted -> Busy.
model::ShowAs showAsFromTransp(std::optional<std::string_view> transp);
/// Model -> X-MICROSOFT-CDO-BUSYSTATUS (Outlook's free/busy over CalDAV): FREE, TENTATIVE, BUSY,
/// OOF, WORKINGELSEWHERE. Written next to TRANSP on every copy.
std::string_view busyStatusFor(model::ShowAs s);
/// Both properties -> model: TRANSP:TRANSPARENT is Free (clients that know only TRANSP leave
/// Outlook's property stale); otherwise a known X-MICROSOFT-CDO-BUSYSTATUS (any case), being the
/// finer; otherwise TRANSP as showAsFromTransp.
model::ShowAs showAsFrom(std::optional<std::string_view> transp, std::optional<std::string_view> busyStatus);

std::string_view statusFor(model::Status s);
/// Omitted or unknown -> Confirmed.
model::Status statusFrom(std::optional<std::string_view> status);

/// VEVENT properties calgate writes / never writes.
const std::vector<std::string_view>& writtenProperties();
const std::vector<std::string_view>& neverWrittenProperties();

/// A complete VCALENDAR holding the event (with the VTIMEZONE of each zone it uses, recurrence
/// TZIDs included). `dtstamp` is required by RFC 5545; `sequence` is the SEQUENCE to write (the
/// adapter passes the stored value + 1 on updates). The origin marker is X-CALGATE-PAIR /
/// X-CALGATE-SOURCE. Written line by line (content_lines.hpp): TEXT values escaped, lines folded
/// at 75 octets on character boundaries, control characters other than TAB never written (a line
/// break in a value cannot start a property of its own); recurrence lines and VTIMEZONEs are
/// checked and written by libical. Invalid for an unknown zone, a malformed recurrence line or a
/// time outside the years 1600 to 3000 (the reader refuses those too).
core::Result<std::string> calendarText(const model::Event& event, std::chrono::sys_seconds dtstamp, int sequence = 0);

/// A VCALENDAR holding a series: the master (recurrenceId unset) and overrides (recurrenceId set),
/// all with the master's UID. Invalid when they do not share one UID.
core::Result<std::string> calendarText(const std::vector<model::Event>& events, std::chrono::sys_seconds dtstamp,
                                       int sequence = 0);

/// One calendar object resource (RFC 4791 §4.1) as the model sees it.
struct CalendarObject {
  std::vector<model::Event> events;  ///< the master first (if any), then its overrides (recurrenceId set)
  int sequence = 0;           ///< the master's SEQUENCE (an update writes sequence + 1)
};

/// Parses an iCalendar resource: VEVENTs only (VTODO, VJOURNAL ignored), one UID. Times: VALUE=DATE
/// -> Date; UTC -> ZonedTime "UTC"; TZID naming a tz database zone (also with libical's
/// "/freeassociation.sourceforge.net/" prefix) -> ZonedTime in it; another TZID -> the instant via
/// the resource's VTIMEZONE, as UTC; no zone -> FloatingTime. DTEND missing: DURATION, else one day
/// for dates / zero length. SUMMARY, DESCRIPTION and LOCATION are read unescaped ("Lunch, then
/// walk", line breaks as '\n'), as the user typed them. VALARM, ATTACH, CATEGORIES, COLOR, CONFERENCE and PARTSTAT are not read.
/// Invalid for malformed text, a missing UID or DTSTART, several UIDs, more than 1 MiB or 1000
/// components.
/// `splitRanges`: a series with RECURRENCE-ID;RANGE=THISANDFUTURE changes is read as its parts
/// (this_and_future.hpp; Event::id "" and "#from=..."); false keeps the stored overrides as they
/// are (the range itself is then not applied), for rewriting a resource.
core::Result<CalendarObject> parseCalendar(std::string_view text, bool splitRanges = true);

}  // namespace calgate::providers::caldav
