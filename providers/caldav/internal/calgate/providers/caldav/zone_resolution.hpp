#pragma once
// The IANA zone of a TZID as a CalDAV resource uses it: an IANA name, a Windows name (Outlook,
// Exchange) or a zone only the resource's own VTIMEZONE defines (Outlook's "Customized Time Zone").
// Built on calgate/model/zone_names.hpp; thread-safe as that is, provided no other thread uses the
// same icaltimezone meanwhile (libical expands a zone's changes lazily, inside the zone).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

// libical's own declaration (repeated in several of its headers), so including this needs no libical.
typedef struct _icaltimezone icaltimezone;

namespace calgate::providers::caldav {

/// The IANA zone for `tzid`, in this order:
///   (a) libical's "/freeassociation.sourceforge.net/" prefix (also its older ".../Tzfile/" form)
///       is stripped; a name this system's tz database knows is returned as it is;
///   (b) a Windows zone name resolves through model::ianaFromWindows ("W. Europe Standard Time" ->
///       "Europe/Berlin"), whatever the resource's VTIMEZONE says: clients that write Windows
///       names mean that zone, and their VTIMEZONEs carry only the current year's rule;
///   (c) a zone `defined` by the resource's VTIMEZONE (icaltimetype.zone as libical parses it) with
///       at least one STANDARD or DAYLIGHT observance resolves to an IANA zone with the same UTC
///       offsets throughout [from, to) (model::ianaMatching, at most 5 years checked), if any;
///   (d) otherwise nullopt (an unknown name without VTIMEZONE, a VTIMEZONE without observances, or
///       one whose rules no IANA zone follows over the window).
/// `defined` may be null. Cost of (c): the first offset asked of a fresh icaltimezone makes libical
/// expand its changes from the first DTSTART (Outlook writes 1601: ~10 ms), then one offset lookup
/// per day of the window and a search over the IANA zones (see model::ianaMatching). Answers of (c)
/// are cached by the VTIMEZONE's text (up to 16 KiB) and the window, so a VTIMEZONE seen before
/// costs its serialisation only (tens of microseconds), however many resources repeat it.
std::optional<std::string> resolveZone(std::string_view tzid, icaltimezone* defined, std::chrono::sys_seconds from,
                                       std::chrono::sys_seconds to);

}  // namespace calgate::providers::caldav
