#pragma once
/// Gateway configuration: one YAML file, overridable by CALGATE_* environment variables,
/// parsed once at start into immutable typed values. Every key, its type, default and
/// environment variable is listed in deploy/calgate.example.yaml (kept in step by a test).

#include "calgate/core/log.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace calgate::gateway {

struct ServerConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  ///< 0: any free port (the chosen one is logged in server.started)
  unsigned threads = 4;  ///< some requests wait on calendar servers (discovery, preview, feeds)
  std::size_t maxBodyBytes = 1024 * 1024;
  unsigned rateLimitPerMinute = 600;  ///< requests per API token per minute (burst = the same); 0: no limit
  std::chrono::seconds shutdownGrace{10};
};

struct DatabaseConfig {
  /// sqlite:///abs/path.db, sqlite://relative/path.db, sqlite::memory:, or postgresql://...
  /// Empty means the default: sqlite://<data_dir>/calgate.db.
  std::string url;
  bool autoMigrate = true;
  unsigned poolSize = 4;
};

struct VaultConfig {
  /// Master key file; empty means <data_dir>/master.key. CALGATE_MASTER_KEY or
  /// CALGATE_MASTER_PASSPHRASE, when set, take precedence over the file.
  std::filesystem::path keyFile;
};

struct DnsConfig {
  /// Upstream DNS servers ("ip", "ip:port", "[ipv6]:port"); empty = the system's resolvers.
  std::vector<std::string> servers;
  /// DS/DNSKEY records of the trust anchor (Debian dns-root-data's root key by default).
  std::filesystem::path trustAnchor = "/usr/share/dns/root.key";
  /// What an unsigned (Insecure) record may do: tighten only (default) or nothing.
  bool ignoreUnsigned = false;
  std::chrono::seconds clockSkew{300};
  std::chrono::milliseconds timeout{2000};
};

struct SyncConfig {
  unsigned workers = 2;                        ///< job worker threads in this process; 0: none
  std::chrono::seconds pollInterval{300};      ///< how often every pair is synced (CalDAV has no push)
  std::chrono::seconds lease{300};             ///< a job's lease; an expired one runs again elsewhere
  unsigned massDeletePercent = 50;             ///< guard: share of a pair's copies one run may delete...
  unsigned massDeleteMinimum = 10;             ///< ...counting only from this many
  bool restoreDeletedCopies = false;           ///< recreate copies a user deleted in the target
  unsigned mappingRetentionDays = 30;          ///< soft-deleted mappings are purged after this
  bool allowPrivateNetworks = false;           ///< CalDAV servers on loopback/LAN addresses (self-hosted)
};
struct LogConfig {
  core::log::Level level = core::log::Level::Info;
};

struct Config {
  std::filesystem::path dataDir = "data";
  ServerConfig server;
  DatabaseConfig database;
  VaultConfig vault;
  DnsConfig dns;
  SyncConfig sync;
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

}  // namespace calgate::gateway
