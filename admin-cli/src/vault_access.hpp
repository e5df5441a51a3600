#pragma once
// Commands that need credentials open the vault the way `calgate serve` does.

#include "calgate/core/clock.hpp"
#include "calgate/gateway/store/migrator.hpp"
#include "calgate/gateway/vault/master_key.hpp"
#include "calgate/gateway/vault/vault.hpp"
#include "context.hpp"

namespace calgate::admin {

// Opens the database and the vault (schema must be current); `body` gets the vault and returns
// the exit code.
template <class Body>
void withVault(Context& ctx, int& exitCode, Body body) {
  if (auto rc = ctx.open()) {
    exitCode = *rc;
    return;
  }
  auto master = gateway::vault::loadMasterKey(ctx.config, gateway::processEnvironment());
  gateway::vault::protectProcessSecrets();
  if (!master) {
    exitCode = failWith(master.error().message, gateway::kExitUsage);
    return;
  }
  gateway::Migrator migrator(*ctx.db, gateway::builtinMigrations(ctx.db->dialect()), core::systemClock());
  if (auto current = migrator.verifyCurrent(); !current) {
    exitCode = failWith(current.error());
    return;
  }
  auto opened = gateway::vault::Vault::open(*ctx.db, *master, core::systemClock());
  if (!opened) {
    exitCode = failWith(opened.error());
    return;
  }
  exitCode = body(**opened);
}


}  // namespace calgate::admin
