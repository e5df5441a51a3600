#pragma once
/// Recurrence lines (RRULE / EXDATE / RDATE) as the model carries them: parsed against an
/// allow-list of RFC 5545 parts and re-serialised in one canonical form, so that nothing but
/// recurrence data (no x-parameters, no unknown parts, no free text) can travel in them.

#include "calgate/core/error.hpp"
#include "calgate/model/event.hpp"

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace calgate::model {

/// Canonical form of one line, e.g. "rrule:freq=weekly;x-title=secret;count=3" -> Invalid,
/// "RRULE:FREQ=WEEKLY;COUNT=3" -> same, "EXDATE;TZID=Europe/Berlin;X-A=b:20261130T090000" ->
/// "EXDATE;TZID=Europe/Berlin:20261130T090000". Parameters other than VALUE and TZID are dropped;
/// a TZID must name a zone of the system's tz database. Invalid for anything
/// that is not a well-formed RRULE, EXDATE or RDATE line.
core::Result<std::string> normaliseRecurrenceLine(std::string_view line);

/// Every line normalised; Invalid names the first bad line's position (not its content).
core::Result<std::vector<std::string>> normaliseRecurrence(const std::vector<std::string>& lines);

/// An EXDATE or RDATE line with several values as one line per value, same parameters
/// ("EXDATE;TZID=Z:a,b" -> "EXDATE;TZID=Z:a", "EXDATE;TZID=Z:b"); any other line as it is.
std::vector<std::string> oneValuePerLine(const std::string& line);

/// The TZIDs the lines refer to (after normalisation).
std::set<std::string> recurrenceZones(const std::vector<std::string>& lines);

/// The zone's name as the system's tz database knows it (so only names from that fixed list can
/// travel), or Invalid for anything else. Links such as "US/Eastern" are zones of their own there
/// and keep their name.
core::Result<std::string> canonicalZone(std::string_view zone);

/// The EXDATE line that cancels the occurrence starting at `t` (a series' recurrence id):
/// "EXDATE;VALUE=DATE:20261130", "EXDATE:20261130T090000Z" (UTC), "EXDATE;TZID=Europe/Berlin:
/// 20261130T100000", or a floating "EXDATE:20261130T100000".
std::string exdateLineFor(const EventTime& t);

}  // namespace calgate::model
