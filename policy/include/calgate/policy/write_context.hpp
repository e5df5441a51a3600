#pragma once
/// Where an evaluated write would go. Carried by the ApprovedWrite it produces, so an adapter can
/// check that it writes to the pair and target account the approval was made for.

#include "calgate/model/event.hpp"

#include <optional>
#include <string>
#include <vector>

namespace calgate::policy {

struct WriteContext {
  std::string pairId;
  std::string sourceKey;  ///< identifies the source event or occurrence within the pair (ids only)
  /// For an occurrence or exception of a series: the series' key, so every part of a series shares
  /// one UID in the target (a CalDAV series and its overrides live in one resource under one UID).
  std::optional<std::string> seriesKey;
  model::ProviderKind targetProvider = model::ProviderKind::CalDav;
  /// The organisations the target account is proven to be inside (model::memberDomains of its
  /// identities): an organisation's policy admits the target only through one of these. Empty:
  /// inside none (a typed address never counts).
  std::vector<std::string> targetDomains;
  /// CalDAV only: false when the server is known not to do scheduling (RFC 6638), so attendees
  /// written there invite nobody. Google and Microsoft 365 always invite, whatever this says.
  bool targetInvitesAttendees = true;
  /// The target calendar's IANA zone: floating times are anchored in it for targets that have no
  /// floating times (Google, Microsoft 365).
  std::string targetZone = "UTC";
  /// What the copy's UID and origin marker derive from: the pair's copy seed (its id, or that of a
  /// deleted pair of the same calendars whose copies it took over). Empty: the pair id.
  std::string copySeed{};
  /// The target calendar as its provider names it (a CalDAV collection URL): adapters refuse a
  /// write to any other calendar, and derive the one resource they may change from it and the
  /// approved UID. Empty: not bound (tests that build approvals by hand).
  std::string targetCalendar{};
};

}  // namespace calgate::policy
