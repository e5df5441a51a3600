#pragma once
// What every calgate-admin command needs: the configuration (loaded lazily, once) and the
// database, plus output helpers. Commands return an exit code (app::kExit*).

#include "calgate/app/bootstrap.hpp"
#include "calgate/app/config.hpp"
#include "calgate/store/database.hpp"

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>

namespace calgate::admin {

struct Context {
  std::optional<std::filesystem::path> configPath;
  bool json = false;

  /// Loads the config and opens the database, printing the error and returning the exit code
  /// on failure (2 for configuration, 1 for an unreachable database).
  std::optional<int> open();
  /// open(), and the schema must be current (a command on a missing table says so plainly).
  std::optional<int> openCurrent();

  app::Config config;
  std::unique_ptr<store::Database> db;
};

/// Prints "calgate-admin: <message>" to stderr and returns kExitFailure (or `code`).
int failWith(const std::string& message, int code = app::kExitFailure);
/// Same for an error value: a rejected argument (Invalid) is a usage error (2), anything else 1.
int failWith(const core::Error& error);

/// Registers `users ...` commands.
void addUsersCommands(CLI::App& app, Context& ctx, int& exitCode);
/// Registers `db ...` commands.
void addDbCommands(CLI::App& app, Context& ctx, int& exitCode);
/// Registers `dns ...` commands.
void addDnsCommands(CLI::App& app, Context& ctx, int& exitCode);
/// Registers `accounts ...` commands.
void addAccountsCommands(CLI::App& app, Context& ctx, int& exitCode);
/// Registers `pairs ...` commands.
void addPairsCommands(CLI::App& app, Context& ctx, int& exitCode);
/// Registers `audit ...` commands.
void addAuditCommands(CLI::App& app, Context& ctx, int& exitCode);
/// Registers `push ...` commands.
void addPushCommands(CLI::App& app, Context& ctx, int& exitCode);
/// Registers `vault ...` commands.
void addVaultCommands(CLI::App& app, Context& ctx, int& exitCode);

/// "2026-11-21T10:00:00Z" for Unix seconds.
std::string isoTime(long long unixSeconds);

}  // namespace calgate::admin
