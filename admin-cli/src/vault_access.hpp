#pragma once
// Commands that need credentials open the vault the way `calgate serve` does.

#include "calgate/core/clock.hpp"
#include "calgate/store/migrator.hpp"
#include "calgate/vault/master_key.hpp"
#include "calgate/vault/vault.hpp"
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
  auto master = vault::loadMasterKey(ctx.config.vault, ctx.config.dataDir, app::processEnvironment());
  vault::protectProcessSecrets();
  if (!master) {
    exitCode = failWith(master.error().message, app::kExitUsage);
    return;
  }
  store::Migrator migrator(*ctx.db, store::builtinMigrations(ctx.db->dialect()), core::systemClock());
  if (auto current = migrator.verifyCurrent(); !current) {
    exitCode = failWith(current.error());
    return;
  }
  auto opened = vault::Vault::open(*ctx.db, *master, core::systemClock());
  if (!opened) {
    exitCode = failWith(opened.error());
    return;
  }
  exitCode = body(**opened);
}


}  // namespace calgate::admin
