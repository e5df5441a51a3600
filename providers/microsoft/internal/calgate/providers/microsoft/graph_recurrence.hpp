#pragma once
/// A series' recurrence as Microsoft Graph can hold it: the exact patternedRecurrence of an RRULE,
/// and the starts its EXDATEs cancel. Exact means the same occurrences, not a similar rule: where
/// Graph's pattern would fall on other days (a monthly day 29-31, which Outlook moves to a short
/// month's last day; February 29 yearly; a start that is not itself an occurrence, which Outlook
/// moves to the first one; several ordinal weekdays, which Outlook reads as "the first of any of
/// them"; BYHOUR and the other parts Outlook has no field for; RDATE; a second RRULE; a zone
/// without a Windows name, whose wall times would drift), the answer is Invalid with cause
/// WriteRefused and a reason a user can act on, never a rule that is almost the same.
/// Pure functions: thread-safe. Internal to the adapter; here for tests.

#include "calgate/core/error.hpp"
#include "calgate/model/event.hpp"

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <string_view>
#include <vector>

namespace calgate::providers::microsoft {

/// The patternedRecurrence ({pattern, range}) with exactly the occurrences of `series` (its
/// start and its one RRULE; EXDATEs are cancellations, see cancelledStarts). `graphZone` is the
/// timeZone its start is written with (a Windows name, or "UTC"): the recurrence's zone, so the
/// pattern's days and range dates are counted in the series' own wall-clock time. Supported:
/// DAILY (also with BYDAY at interval 1, as Outlook's "every weekday"), WEEKLY with plain BYDAY
/// and WKST, MONTHLY on one BYMONTHDAY (1-28, or -1: the last day, Outlook's day 31) or one
/// ordinal weekday (1-4, -1) or one position among all days, weekdays or weekend days
/// (BYDAY=MO,...;BYSETPOS=1-4 or -1: Outlook's relative pattern with several days), YEARLY on
/// one month and day or one month and ordinal weekday or position; COUNT, UNTIL (date or time)
/// or no end.
core::Result<nlohmann::json> patternedRecurrenceFor(const model::Event& series, std::string_view graphZone);

/// The original starts the series' EXDATE lines cancel, as instants the way calgate writes the
/// series to Graph (see originalStartOf); Invalid for an EXDATE that cannot be read.
core::Result<std::vector<std::chrono::sys_seconds>> cancelledStarts(const model::Event& series);

/// The instant Graph gives as `originalStart` for the occurrence of calgate's copy that starts at
/// `t`: a zoned time's instant; an all-day date and a floating time at that wall time in UTC (the
/// zone calgate writes them in).
std::chrono::sys_seconds originalStartOf(const model::EventTime& t);

}  // namespace calgate::providers::microsoft
