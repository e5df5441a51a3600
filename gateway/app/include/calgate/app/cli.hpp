#pragma once
/// Command-line plumbing shared by `calgate` and `calgate-admin` (CLI11). Include only from
/// the binaries' main files: CLI11 is a heavy header.

#include "calgate/app/bootstrap.hpp"
#include "calgate/core/version.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace calgate::app {

/// `--version` text: "0.1.0 (abc1234)".
inline std::string versionText() {
  return std::string(core::versionString()) + " (" + std::string(core::gitCommit()) + ")";
}

/// Parses the command line. Returns an exit code when the process should stop now: 0 after
/// --help/--version, kExitUsage after a usage error (CLI11 has printed why); nullopt otherwise.
inline std::optional<int> parseCommandLine(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  return std::nullopt;
}

}  // namespace calgate::app
