#pragma once
/// Build identity, filled in by CMake.

#include <string_view>

namespace calgate::core {

std::string_view versionString();  ///< e.g. "0.1.0"
std::string_view gitCommit();      ///< short commit hash, or "unknown"

}  // namespace calgate::core
