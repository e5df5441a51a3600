#pragma once
/// Recurrence expansion: the occurrences a series (or a single event) has within a time window,
/// for busy blocks (the availability feed) and for providers that want series as instances.
/// RRULEs are expanded by libical in the series' wall-clock time, so a weekly 09:00 in
/// Europe/Berlin stays at 09:00 across DST changes.

#include "calgate/core/error.hpp"
#include "calgate/model/event.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace calgate::model {

/// One occurrence of an event.
struct Occurrence {
  /// As in the model: Date for all-day, ZonedTime (the master's zone) for zoned, FloatingTime for
  /// floating series. An all-day end is exclusive, as in Event.
  EventTime start;
  EventTime end;
  /// UTC instants; dates (at midnight) and floating times are anchored in the `floatingZone`
  /// given to expandOccurrences.
  std::chrono::sys_seconds startInstant;
  std::chrono::sys_seconds endInstant;
  /// The event that produced it: the master, or the override that replaced the occurrence.
  /// Points into the vector given to expandOccurrences.
  const Event* event = nullptr;
  /// The occurrence's original start (for an override: its recurrenceId, also when its master is
  /// absent). Unset for an event that does not recur.
  std::optional<EventTime> recurrenceId;
};

struct ExpansionLimits {
  /// Per series: the most occurrences its rules may generate (including those skipped before the
  /// window). Expansion of that series stops there; what was found so far is returned.
  std::size_t maxOccurrences = 5000;
  /// Reaching maxOccurrences fails the expansion (Invalid, cause BudgetExceeded) instead of
  /// returning what was found so far: for callers that must not show a truncated series.
  bool failWhenReached = false;
};

/// Expands `events` into their occurrences overlapping [from, to), sorted by start instant (then
/// end instant, then input order). `events` holds one event, or one series (the master followed
/// by its overrides, as ChangeSet delivers them), or several of those mixed: events are grouped
/// by Event::id (by uid where id is empty).
///
/// - The recurrence set is DTSTART, the RRULE occurrences and the RDATEs, less the EXDATEs
///   (RFC 5545 §3.8.5; DTSTART counts as the first occurrence, also for COUNT, even when the rule
///   does not match it). Lines are read in their normalised form (recurrence.hpp); floating
///   EXDATE/RDATE times are the series' wall-clock time; an EXDATE date removes that day's
///   occurrences. An RRULE UNTIL in UTC is compared in the series' wall-clock time; an UNTIL date
///   on a timed series includes that whole day.
/// - Each generated occurrence lasts as long as the master (end - start; all-day: whole days).
/// - An override replaces the occurrence whose start matches its recurrenceId and appears with
///   its own times (also when it was moved into the window from outside it). A cancelled
///   override only removes; a cancelled master removes the whole series, overrides included;
///   a cancelled single event yields nothing. An override whose master is absent is treated as
///   a single event.
/// - Floating times and dates are anchored in `floatingZone` (an IANA zone).
/// - Guards: a series stops after limits.maxOccurrences generated occurrences or at the first
///   one starting at or after `to`.
///
/// Invalid (never an exception) for to < from, an unknown zone, or a malformed recurrence line
/// (RRULE libical rejects, e.g. COUNT=0 or COUNT with UNTIL) in any event given.
core::Result<std::vector<Occurrence>> expandOccurrences(const std::vector<Event>& events,
                                                        std::chrono::sys_seconds from, std::chrono::sys_seconds to,
                                                        std::string_view floatingZone = "UTC",
                                                        ExpansionLimits limits = {});

/// Occurrences point into `events`: a temporary would leave them dangling.
core::Result<std::vector<Occurrence>> expandOccurrences(std::vector<Event>&& events, std::chrono::sys_seconds from,
                                                        std::chrono::sys_seconds to,
                                                        std::string_view floatingZone = "UTC",
                                                        ExpansionLimits limits = {}) = delete;

}  // namespace calgate::model
