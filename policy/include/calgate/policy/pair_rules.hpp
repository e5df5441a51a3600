#pragma once
/// What a user configured for one sync pair: how much of each event may reach the target.

#include "calgate/model/event.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace calgate::policy {

inline constexpr std::string_view kDefaultLabel = "Busy";

enum class PrivacyMode {
  Full,     ///< copy title, description, location (subject to the field rules)
  Private,  ///< "Mark as private": title -> label, details cleared, sensitivity private
};

enum class FieldRule { Keep, Clear };

enum class AttendeeRule {
  Omit,              ///< never copy attendees (default)
  CopyWhereSilent,   ///< copy the email list, but only to targets that would not invite them
};

struct PairRules {
  PrivacyMode mode = PrivacyMode::Full;
  std::string label = std::string(kDefaultLabel);  ///< title of stripped events
  FieldRule description = FieldRule::Keep;          ///< full mode only; private always clears
  FieldRule location = FieldRule::Keep;             ///< full mode only; private always clears
  std::optional<model::ShowAs> showAsOverride;  ///< else the source's free/busy is kept
  AttendeeRule attendees = AttendeeRule::Omit;
};

std::string_view toString(PrivacyMode m);

}  // namespace calgate::policy
