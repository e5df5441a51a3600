#pragma once
/// Instants as Graph writes them outside events (a subscription's expirationDateTime):
/// "2026-12-05T06:52:00.0000000Z" or with "+00:00". Pure; internal to the adapter, here for tests.

#include <chrono>
#include <optional>
#include <string_view>

namespace calgate::providers::microsoft {

/// The instant, to the second (a fraction of up to 9 digits is dropped); nullopt for anything
/// else (another offset, no zone, a day that does not exist).
std::optional<std::chrono::sys_seconds> parseGraphInstant(std::string_view text);

}  // namespace calgate::providers::microsoft
