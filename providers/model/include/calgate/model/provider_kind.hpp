#pragma once
/// Which provider an account, a calendar or a write belongs to. A closed set: code switches on the
/// enum, never compares provider names. The one text form (stored in the database, accepted in
/// requests, printed in metrics and logs) goes through toString() and parseProviderKind() only.

#include "calgate/core/error.hpp"

#include <array>
#include <string_view>

namespace calgate::model {

enum class ProviderKind { Google, Microsoft, CalDav };

/// Every kind, in the order they are listed to users.
inline constexpr std::array<ProviderKind, 3> kProviderKinds = {ProviderKind::CalDav, ProviderKind::Google,
                                                               ProviderKind::Microsoft};

/// "google", "microsoft", "caldav".
std::string_view toString(ProviderKind p);

/// The inverse of toString(): exact, case-sensitive. Invalid, naming the accepted values, for any
/// other text (an unknown value in the database or a request is an error, never a default).
core::Result<ProviderKind> parseProviderKind(std::string_view text);

/// "caldav, google, microsoft": the accepted texts, for messages.
std::string_view providerKindList();

}  // namespace calgate::model
