// calgate-admin: operator commands (users, tokens, database schema).
#include "calgate/app/cli.hpp"
#include "context.hpp"

#include <sys/stat.h>

using namespace calgate;

int main(int argc, char** argv) {
  ::umask(077);
  CLI::App app{"calgate-admin: operate a calgate installation", "calgate-admin"};
  app.require_subcommand(1);
  app.set_version_flag("--version", app::versionText());
  admin::Context ctx;
  app.add_option("-c,--config", ctx.configPath, "YAML configuration file (default: $CALGATE_CONFIG, else defaults)");
  int exitCode = app::kExitFailure;
  admin::addUsersCommands(app, ctx, exitCode);
  admin::addDbCommands(app, ctx, exitCode);
  admin::addVaultCommands(app, ctx, exitCode);
  admin::addDnsCommands(app, ctx, exitCode);
  admin::addAccountsCommands(app, ctx, exitCode);
  admin::addPairsCommands(app, ctx, exitCode);
  admin::addPushCommands(app, ctx, exitCode);
  admin::addAuditCommands(app, ctx, exitCode);
  if (auto stop = app::parseCommandLine(app, argc, argv)) return *stop;
  return exitCode;
}
