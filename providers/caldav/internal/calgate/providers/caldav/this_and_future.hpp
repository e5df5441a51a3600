#pragma once
// RECURRENCE-ID;RANGE=THISANDFUTURE (RFC 5545 §3.8.4.4) as the model can carry it. An override with
// that range changes its occurrence and every later one: they move by the same wall-clock shift and
// take its properties. No target calgate writes to keeps the range reliably (Google and Graph
// have no such thing; many CalDAV clients ignore it), so a resource is read as the series split
// in two: the series until the change, and a new series from it.
//
//  - The first part keeps the resource's id: the master with its rules ending before the changed
//    occurrence (COUNT replaced by UNTIL), the RDATEs before it, and the overrides before it.
//  - The second part has the id "<resource id>#from=<the changed occurrence's original start>"
//    (an id the adapter's getEvent understands): the changed occurrence as its master, every later
//    occurrence as an RDATE moved by the shift (so each is right, whatever rules produced it), and
//    the later overrides with their RECURRENCE-IDs moved by the same shift.
//  - A later THISANDFUTURE override splits the second part again.
//
// Limits: at most kMaxFutureOccurrences occurrences after a change (about 2.7 years of a daily
// series, 19 of a weekly one); later ones are not carried. At most 8 changes per series (Invalid
// beyond), each expanding the series over at most 20,000 occurrences. Pure; thread-safe.

#include "calgate/core/error.hpp"
#include "calgate/model/event.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace calgate::providers::caldav {

inline constexpr std::size_t kMaxFutureOccurrences = 1000;
/// The separator of a split part's id ("<resource id>#from=<start>").
inline constexpr std::string_view kPartMarker = "#from=";

/// One event of a resource as read, with its RECURRENCE-ID range.
struct RangedEvent {
  model::Event event;
  bool thisAndFuture = false;  ///< RECURRENCE-ID;RANGE=THISANDFUTURE
};

/// Splits `events` (the master first, then its overrides; ids left empty by the parser) at each
/// THISANDFUTURE override. Returns the events of every part; a part's events carry the part's id
/// suffix in Event::id ("" for the first part, "#from=..." for the others) for the adapter to
/// prefix with the resource's id. Without such an override the events come back unchanged.
/// Invalid when the master's recurrence cannot be expanded or a shifted time does not exist.
core::Result<std::vector<model::Event>> splitThisAndFuture(std::vector<RangedEvent> events);

/// The resource id of an event id ("<resource>#from=..." -> "<resource>"; others unchanged).
std::string resourceOf(const std::string& eventId);

}  // namespace calgate::providers::caldav
