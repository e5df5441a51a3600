#pragma once
/// Microsoft Graph v1.0 <-> model: sensitivity, showAs and the event create/update body.
/// Rows follow the product's Microsoft 365 page: sensitivity normal -> normal,
/// personal -> private, private -> private, confidential -> confidential; showAs carries
/// free / tentative / busy / oof / workingElsewhere.

#include "calgate/model/event.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace calgate::providers::microsoft {

/// Model -> `sensitivity` (personal is written as private, as the product promises).
std::string_view sensitivityFor(model::Sensitivity s);
/// `sensitivity` -> model; missing -> Normal; unknown -> Private (fail safe).
model::Sensitivity sensitivityFrom(std::string_view sensitivity);

/// Model -> `showAs`.
std::string_view showAsFor(model::ShowAs s);
/// `showAs` -> model; "unknown", missing or unrecognised -> Busy.
model::ShowAs showAsFrom(std::string_view showAs);

const std::vector<std::string_view>& writtenFields();
const std::vector<std::string_view>& neverWrittenFields();

/// The JSON body for POST/PATCH /me/calendars/{id}/events. Times are written as wall-clock
/// dateTime + IANA timeZone; all-day events as midnight in `calendarZone` with isAllDay. Never
/// attendees (Microsoft 365 would invite them). Graph accepts IANA names only from its own list:
/// the Windows-zone translation belongs to the Graph adapter. The body is one event: an event with
/// recurrence lines is Invalid here; the adapter writes a series as this body of its first
/// occurrence plus the exact patternedRecurrence of its rule (graph_recurrence.hpp).
/// The origin marker is a singleValueExtendedProperty with id kOriginPropertyId.
core::Result<std::string> eventBody(const model::Event& event, std::string_view calendarZone = "UTC");

/// The extended property holding the origin marker ("<pairId> <sourceKey>").
inline constexpr std::string_view kOriginPropertyId =
    "String {6b1c4d7e-2f0a-4c39-9a57-5d3f8e0c1a24} Name calgateOrigin";

/// The extended property holding the pair alone ("<pairId>"), so the copies of one pair in a
/// calendar can be listed with Graph's documented $filter on an extended property's value.
inline constexpr std::string_view kPairPropertyId =
    "String {6b1c4d7e-2f0a-4c39-9a57-5d3f8e0c1a24} Name calgatePair";

}  // namespace calgate::providers::microsoft
