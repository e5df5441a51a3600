#pragma once
/// Gateway configuration: one YAML file, overridable by CALGATE_* environment variables,
/// parsed once at start into immutable typed values. Each section's type lives with the library
/// that reads it (http::ServerConfig, store::DatabaseConfig, ...); this file loads them all.
/// Every key, its type, default and environment variable is listed in
/// deploy/calgate.example.yaml (kept in step by a test).

#include "calgate/accounts/google_accounts.hpp"
#include "calgate/accounts/microsoft_accounts.hpp"
#include "calgate/api/limits.hpp"
#include "calgate/core/log.hpp"
#include "calgate/http/server_config.hpp"
#include "calgate/orgpolicy/dns_config.hpp"
#include "calgate/store/database.hpp"
#include "calgate/sync/sync_config.hpp"
#include "calgate/vault/vault_config.hpp"

#include "calgate/portal/portal_config.hpp"
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace calgate::app {

struct LogConfig {
  core::log::Level level = core::log::Level::Info;
};

/// Every section, each defined by the library that reads it.
struct Config {
  std::filesystem::path dataDir = "data";
  http::ServerConfig server;
  store::DatabaseConfig database;
  vault::VaultConfig vault;
  orgpolicy::DnsConfig dns;
  sync::SyncConfig sync;
  api::ApiLimits limits;
  accounts::GoogleConfig google;
  accounts::MicrosoftConfig microsoft;
  portal::PortalConfig portal;
  LogConfig log;
  /// The file the configuration came from, if any (for messages).
  std::optional<std::filesystem::path> source;
};

/// Why a configuration was rejected. `message` names the key path (and the file line or the
/// environment variable) and what was expected, e.g.
///   server.port (calgate.yaml line 4): expected an integer from 1 to 65535, got "http"
struct ConfigError {
  std::string message;
};

/// Environment variables as name -> value (tests pass their own; production passes environ).
using Environment = std::map<std::string, std::string>;

/// The process environment.
Environment processEnvironment();

/// Loads the configuration: defaults, then `file` (if given), then CALGATE_* variables of `env`.
/// Rejects unknown keys and unknown CALGATE_* variables, wrong types, out-of-range values,
/// a missing `version` in a file, unreadable or malformed files.
std::expected<Config, ConfigError> loadConfig(const std::optional<std::filesystem::path>& file,
                                              const Environment& env);

/// Every configuration key path ("server.port", ...) in documentation order.
std::vector<std::string> configKeyPaths();

/// The environment variable overriding a key path: "server.port" -> "CALGATE_SERVER_PORT".
std::string environmentVariableFor(const std::string& keyPath);

/// Variables with the CALGATE_ prefix that are not configuration keys but are still legal
/// (e.g. CALGATE_CONFIG, CALGATE_MASTER_KEY).
const std::vector<std::string>& reservedEnvironmentVariables();

}  // namespace calgate::app
