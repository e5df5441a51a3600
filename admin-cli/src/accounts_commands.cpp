#include "calgate/accounts/account_store.hpp"
#include "calgate/accounts/caldav_accounts.hpp"
#include "calgate/accounts/user_store.hpp"
#include "calgate/sync/calendar_store.hpp"
#include "context.hpp"
#include "vault_access.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

namespace calgate::admin {

void addAccountsCommands(CLI::App& app, Context& ctx, int& exitCode) {
  auto* cmd = app.add_subcommand("accounts", "Connected calendar accounts");
  cmd->require_subcommand(1);

  static std::string user, email, serverUrl, username;
  auto* add = cmd->add_subcommand(
      "add-caldav",
      "Connect a CalDAV account (iCloud, Fastmail, Nextcloud...): reads the app-specific password from "
      "stdin, discovers the calendars and lists them with the ids pairs use");
  add->add_option("USER", user, "The calgate user's email address")->required();
  add->add_option("ACCOUNT_EMAIL", email, "The account's address (its domain selects the organisation policy)")
      ->required();
  add->add_option("SERVER_URL", serverUrl, "The CalDAV server, e.g. https://caldav.icloud.com/")->required();
  add->add_option("--username", username, "Login name, if not the account's address");
  add->add_flag("--json", ctx.json, "Print JSON");
  add->callback([&] {
    std::string password;
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.empty()) {
      exitCode = failWith("no password on stdin (pipe the app-specific password in)", app::kExitUsage);
      return;
    }
    withVault(ctx, exitCode, [&](vault::Vault& vault) {
      const auto& clock = core::systemClock();
      auto owner = accounts::UserStore(*ctx.db, clock).findUserByEmail(user);
      if (!owner) return failWith(owner.error().code == core::ErrorCode::NotFound ? "no user " + user : owner.error().message);
      // Discover first: an account whose calendars cannot be listed is not stored.
      const accounts::CalDavLogin login{serverUrl, username.empty() ? email : username, password};
      auto calendars = accounts::discoverCalDav(login, ctx.config.sync.allowPrivateNetworks, clock, providers::HttpClientOptions{}.totalTimeout);
      if (!calendars) return failWith("cannot list the account's calendars: " + calendars.error().message);

      accounts::AccountStore accounts(*ctx.db, vault, clock);
      auto account = accounts.create({owner->id, model::ProviderKind::CalDav, email, serverUrl}, accounts::caldavCredential(login));
      if (!account) return failWith(account.error());
      sync::CalendarStore store(*ctx.db, clock);
      nlohmann::json out = {{"account_id", account->id}, {"calendars", nlohmann::json::array()}};
      if (!ctx.json) std::cout << "account " << account->id << " (" << email << ") connected\n";
      for (const auto& c : *calendars) {
        auto saved = store.upsert(account->id, c);
        if (!saved) return failWith(saved.error());
        if (ctx.json) {
          out["calendars"].push_back({{"id", saved->id}, {"name", saved->displayName}, {"url", c.id}});
        } else {
          std::cout << "  calendar " << saved->id << "  " << saved->displayName << "  " << c.id << "\n";
        }
      }
      if (ctx.json) std::cout << out.dump(2) << "\n";
      return app::kExitOk;
    });
  });
}

}  // namespace calgate::admin
