#pragma once
/// Start-up steps shared by `calgate` and `calgate-admin`: find and load the configuration,
/// open the database. Exit codes used by both binaries are defined here.

#include "calgate/app/config.hpp"
#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"

#include <filesystem>
#include <memory>
#include <optional>

namespace calgate::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  ///< the command ran and failed (database down, conflict, ...)
inline constexpr int kExitUsage = 2;    ///< bad arguments or bad configuration

/// The config file to use: `cliPath` if given, else $CALGATE_CONFIG if set, else none (defaults
/// and environment only).
std::optional<std::filesystem::path> chooseConfigFile(const std::optional<std::filesystem::path>& cliPath,
                                                      const Environment& env);

/// Opens the configured database (pool size from the config).
core::Result<std::unique_ptr<store::Database>> openConfiguredDatabase(const Config& config);

}  // namespace calgate::app
