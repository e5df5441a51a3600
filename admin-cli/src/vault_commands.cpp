#include "calgate/core/clock.hpp"
#include "calgate/store/migrator.hpp"
#include "calgate/vault/master_key.hpp"
#include "calgate/vault/vault.hpp"
#include "context.hpp"
#include "vault_access.hpp"

#include <nlohmann/json.hpp>

#include <iomanip>
#include <iostream>

namespace calgate::admin {
namespace {

using app::kExitOk;

}  // namespace

void addVaultCommands(CLI::App& app, Context& ctx, int& exitCode) {
  auto* cmd = app.add_subcommand("vault", "The credential vault: master key, data keys, rotation");
  cmd->require_subcommand(1);

  auto* init = cmd->add_subcommand(
      "init", "Create the master key file (mode 0600) if absent, and initialise the vault when the schema is current");
  init->callback([&] {
    if (auto rc = ctx.open()) {
      exitCode = *rc;
      return;
    }
    const auto env = app::processEnvironment();
    auto set = [&](const char* name) {
      auto it = env.find(name);
      return it != env.end() && !it->second.empty();
    };
    const bool fromEnv = set("CALGATE_MASTER_KEY") || set("CALGATE_MASTER_PASSPHRASE");
    if (!fromEnv) {
      const auto path = vault::keyFilePath(ctx.config.vault, ctx.config.dataDir);
      auto created = vault::createKeyFile(path);
      if (!created) {
        exitCode = failWith(created.error());
        return;
      }
      std::cout << (*created ? "created master key file " : "master key file exists: ") << path.string() << "\n";
      if (*created) std::cout << "Back it up somewhere safe: without it, stored credentials cannot be decrypted.\n";
    }
    store::Migrator migrator(*ctx.db, store::builtinMigrations(ctx.db->dialect()), core::systemClock());
    auto status = migrator.status();
    if (!status) {
      exitCode = failWith(status.error());
      return;
    }
    if (!status->current()) {
      std::cout << "the vault will be initialised when the schema is migrated (calgate serve, or calgate-admin db migrate "
                   "then vault init)\n";
      exitCode = kExitOk;
      return;
    }
    withVault(ctx, exitCode, [](vault::Vault& v) {
      std::cout << "vault ready; current data key " << v.currentKeyId() << "\n";
      return kExitOk;
    });
  });

  auto* status = cmd->add_subcommand("status", "Show data keys and how many credentials each seals");
  status->add_flag("--json", ctx.json, "Print JSON");
  status->callback([&] {
    withVault(ctx, exitCode, [&](vault::Vault& v) {
      auto keys = v.status();
      if (!keys) return failWith(keys.error());
      if (ctx.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& k : *keys) {
          out.push_back({{"id", k.id}, {"created_at", isoTime(k.createdAt)}, {"current", k.current},
                         {"credentials", k.credentials}});
        }
        std::cout << out.dump(2) << "\n";
      } else {
        std::cout << std::left << std::setw(30) << "KEY" << std::setw(22) << "CREATED" << std::setw(13) << "CREDENTIALS"
                  << "\n";
        for (const auto& k : *keys) {
          std::cout << std::setw(30) << k.id << std::setw(22) << isoTime(k.createdAt) << std::setw(13) << k.credentials
                    << (k.current ? "current" : "") << "\n";
        }
      }
      return kExitOk;
    });
  });

  static std::size_t batchSize = 100;
  auto* rotate = cmd->add_subcommand(
      "rotate", "Add a new data key and re-encrypt every credential with it (resumes an interrupted rotation)");
  rotate->add_option("--batch-size", batchSize, "Credentials re-encrypted per transaction")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  rotate->callback([&] {
    withVault(ctx, exitCode, [&](vault::Vault& v) {
      auto report = v.rotate(batchSize, std::nullopt, [](const vault::RotationReport& r) {
        std::cout << "  re-encrypted " << r.reencrypted << " credential(s) so far" << std::endl;
      });
      if (!report) return failWith(report.error());
      std::cout << (report->resumed ? "resumed rotation to key " : "rotated to new key ") << report->toKey << ": "
                << report->reencrypted << " credential(s) re-encrypted\n";
      for (const auto& id : report->unreadable) {
        std::cout << "  account " << id << ": credential cannot be opened; left as it is (reconnect the account)\n";
      }
      if (report->remaining > 0) {
        std::cout << report->remaining << " credential(s) are still on older keys; run vault rotate again "
                  << "(it continues with " << report->toKey << ")\n";
        return app::kExitFailure;
      }
      std::cout << "older keys can now be retired: calgate-admin vault retire KEY-ID\n";
      return kExitOk;
    });
  });

  static std::string keyId;
  auto* retire = cmd->add_subcommand("retire", "Delete an old data key; refused while any credential uses it");
  retire->add_option("KEY-ID", keyId, "The key id, as shown by vault status")->required();
  retire->callback([&] {
    withVault(ctx, exitCode, [&](vault::Vault& v) {
      if (auto done = v.retire(keyId); !done) return failWith(done.error());
      std::cout << "key " << keyId << " retired\n";
      return kExitOk;
    });
  });
}

}  // namespace calgate::admin
