// calgate-admin: operator commands (users, tokens, database schema).
#include "calgate/core/version.hpp"
#include "context.hpp"

#include <sys/stat.h>

using namespace calgate;

int main(int argc, char** argv) {
  ::umask(077);
  CLI::App app{"calgate-admin: operate a calgate installation", "calgate-admin"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(core::versionString()) + " (" + std::string(core::gitCommit()) + ")");
  admin::Context ctx;
  app.add_option("-c,--config", ctx.configPath, "YAML configuration file (default: $CALGATE_CONFIG, else defaults)");
  int exitCode = gateway::kExitFailure;
  admin::addUsersCommands(app, ctx, exitCode);
  admin::addDbCommands(app, ctx, exitCode);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return gateway::kExitUsage;
  }
  return exitCode;
}
