#pragma once
/// Google Calendar v3 <-> model: the one place where Google's vocabulary is translated
/// (visibility, transparency, status) and where the events.insert/update body is built.
/// Rows follow the product's Google page: visibility default/public/private/confidential is
/// preserved (confidential is never downgraded); transparency carries free/busy.

#include "calgate/model/event.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace calgate::providers::google {

/// Model -> `visibility`. Graph's normal -> default, personal -> private.
std::string_view visibilityFor(model::Sensitivity s);
/// `visibility` -> model; missing -> Default; an unknown value -> Private (fail safe).
model::Sensitivity sensitivityFromVisibility(std::string_view visibility);

/// Model -> `transparency`: Free -> "transparent", every busy kind -> "opaque".
std::string_view transparencyFor(model::ShowAs s);
/// `transparency` -> model: "transparent" -> Free; "opaque" or missing -> Busy.
model::ShowAs showAsFromTransparency(std::string_view transparency);

std::string_view statusFor(model::Status s);
/// missing or unknown -> Confirmed.
model::Status statusFrom(std::string_view status);

/// Top-level Event fields the body may contain.
const std::vector<std::string_view>& writtenFields();
/// Event fields calgate never writes (not synced, or read-only identities).
const std::vector<std::string_view>& neverWrittenFields();

/// The JSON body for events.insert / events.update: a client-chosen `id` derived from the UID
/// (idempotent inserts), the copy's UID next to the origin marker, no attendees (Google would put the event on each guest's calendar),
/// no sequence (Google keeps it). Floating times are written in `calendarZone`. Empty
/// description/location are omitted (cleared on update, which replaces the whole event). The origin
/// marker goes to extendedProperties.private. Instances of a series are updated through the
/// instances API by the adapter, not created with this body. Invalid for an unknown zone.
core::Result<std::string> eventBody(const model::Event& event, std::string_view calendarZone = "UTC");

/// The Google event id for a UID: its base32hex characters (a-v, 0-9), at least 5.
std::string eventIdFor(std::string_view uid);

/// extendedProperties.private keys of the origin marker, and of the copy's UID (Google keeps its own
/// iCalUID "<id>@google.com" for events it did not import, so the UID calgate gave the copy is
/// kept beside the marker and read back as the event's uid).
inline constexpr std::string_view kOriginPairKey = "calgatePair";
inline constexpr std::string_view kOriginSourceKey = "calgateSource";
inline constexpr std::string_view kCopyUidKey = "calgateUid";

}  // namespace calgate::providers::google
