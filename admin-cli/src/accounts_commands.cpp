#include "calgate/accounts/account_store.hpp"
#include "calgate/accounts/caldav_accounts.hpp"
#include "calgate/accounts/google_accounts.hpp"
#include "calgate/accounts/identities.hpp"
#include "calgate/accounts/microsoft_accounts.hpp"
#include "calgate/accounts/oauth_connections.hpp"
#include "calgate/accounts/token_broker.hpp"
#include "calgate/oauth/client.hpp"
#include "calgate/providers/http/curl_http_client.hpp"
#include "calgate/accounts/user_store.hpp"
#include "calgate/sync/calendar_store.hpp"
#include "context.hpp"
#include "vault_access.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <map>

namespace calgate::admin {
namespace {

std::string describeIdentities(const std::vector<model::Identity>& identities) {
  if (identities.empty()) return "nothing (no organisation policy applies; inside no organisation)";
  std::string out;
  for (const auto& i : identities) {
    if (!out.empty()) out += "; ";
    out += (i.address.empty() ? i.domain : i.address) + " (" + std::string(model::toString(i.kind)) +
           (i.member ? ", inside " + i.domain : "") + ")";
  }
  return out;
}

nlohmann::json accountJson(const accounts::Account& a, const std::string& owner) {
  nlohmann::json identities = nlohmann::json::array();
  for (const auto& i : a.identities) {
    identities.push_back({{"kind", std::string(model::toString(i.kind))},
                          {"address", i.address},
                          {"domain", i.domain},
                          {"inside", i.member}});
  }
  return {{"id", a.id},
          {"user", owner},
          {"provider", std::string(model::toString(a.provider))},
          {"label", a.email},
          {"server_url", a.serverUrl ? nlohmann::json(*a.serverUrl) : nlohmann::json(nullptr)},
          {"status", a.status},
          {"status_reason", a.statusReason.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.statusReason)},
          {"credential", a.provider == model::ProviderKind::CalDav ? "app password (vault)" : "OAuth refresh token (vault)"},
          {"identities", identities},
          {"identities_proven", a.identitiesProven},
          {"policy_domains", model::policyDomains(a.identities)},
          {"inside", model::memberDomains(a.identities)}};
}

void addListCommand(CLI::App* cmd, Context& ctx, int& exitCode) {
  static std::string only;
  auto* list = cmd->add_subcommand(
      "list", "List connected accounts: who each is proven to be (the domains whose policies apply) and its state");
  list->add_option("--user", only, "Only this calgate user's accounts");
  list->add_flag("--json", ctx.json, "Print JSON");
  list->callback([&] {
    withVault(ctx, exitCode, [&](vault::Vault& vault) {
      const auto& clock = core::systemClock();
      auto users = accounts::UserStore(*ctx.db, clock).listUsers();
      if (!users) return failWith(users.error());
      accounts::AccountStore store(*ctx.db, vault, clock);
      nlohmann::json out = nlohmann::json::array();
      for (const auto& u : *users) {
        if (!only.empty() && u.email != only) continue;
        auto accounts = store.listForUser(u.id);
        if (!accounts) return failWith(accounts.error());
        for (const auto& a : *accounts) {
          out.push_back(accountJson(a, u.email));
          if (ctx.json) continue;
          std::cout << a.id << "  " << u.email << "  " << model::toString(a.provider) << "  " << a.email << "  "
                    << a.status << (a.statusReason.empty() ? "" : " (" + a.statusReason + ")")
                    << "\n  proven: " << describeIdentities(a.identities)
                    << (a.identitiesProven ? "" : " [connected before proofs: refresh its calendars to prove it]")
                    << "\n";
        }
      }
      if (!only.empty() && out.empty() &&
          std::none_of(users->begin(), users->end(), [](const accounts::User& u) { return u.email == only; })) {
        return failWith("no user " + only, app::kExitUsage);
      }
      if (ctx.json) std::cout << out.dump(2) << "\n";
      return app::kExitOk;
    });
  });
}

/// What the connect and calendars commands need of an OAuth provider: its section and offer.
struct OAuthKind {
  model::ProviderKind kind;
  std::string label;  ///< "Google", "Microsoft 365"
  std::string key;    ///< the config section: "google", "microsoft"
};

bool insecureLoopback(const Context& ctx, model::ProviderKind kind) {
  return kind == model::ProviderKind::Google ? ctx.config.google.allowInsecureLoopback : ctx.config.microsoft.allowInsecureLoopback;
}

core::Result<bool> offer(const Context& ctx, model::ProviderKind kind, providers::HttpClient& http, accounts::OAuthConnections& connections) {
  return kind == model::ProviderKind::Google
             ? accounts::offerGoogle(ctx.config.google, ctx.config.server.publicUrl, http, connections)
             : accounts::offerMicrosoft(ctx.config.microsoft, ctx.config.server.publicUrl, http, connections);
}

void addConnectCommand(CLI::App* cmd, Context& ctx, int& exitCode, const OAuthKind& p) {
  // one user name per command: CLI11 keeps a reference to it until the callback runs
  static std::map<std::string, std::string> users;
  std::string& user = users[p.key];
  auto* connect = cmd->add_subcommand(
      "connect-" + p.key,
      "Start connecting a " + p.label + " account for a user: prints a one-time link (10 minutes) to open in that user's "
      "browser, where they sign in at " + p.label + " (the running gateway serves the link and the OAuth callback)");
  connect->add_option("USER", user, "The calgate user's email address")->required();
  connect->add_flag("--json", ctx.json, "Print JSON");
  connect->callback([&ctx, &exitCode, &user, p] {
    withVault(ctx, exitCode, [&](vault::Vault& vault) {
      const auto& clock = core::systemClock();
      auto owner = accounts::UserStore(*ctx.db, clock).findUserByEmail(user);
      if (!owner) return failWith(owner.error().code == core::ErrorCode::NotFound ? "no user " + user : owner.error().message);
      accounts::AccountStore store(*ctx.db, vault, clock);
      providers::CurlHttpClient http(oauth::httpClientOptions(insecureLoopback(ctx, p.kind)));
      accounts::OAuthConnections connections(*ctx.db, vault, store, http, clock);
      auto offered = offer(ctx, p.kind, http, connections);
      if (!offered) return failWith(p.label + " sign-in is not available: " + offered.error().message);
      if (!*offered) return failWith(p.label + " accounts are not configured (" + p.key + ".client_id)", app::kExitUsage);
      auto start = connections.begin(owner->id, p.kind);
      if (!start) return failWith(start.error());
      const std::string link = ctx.config.server.publicUrl + "/oauth/start/" + start->handoff;
      if (ctx.json) {
        std::cout << nlohmann::json{{"authorization_url", link}, {"expires_at", start->expiresAt}}.dump(2) << "\n";
      } else {
        std::cout << "Open this link in " << user << "'s browser within 10 minutes (once only):\n  " << link << "\n";
      }
      return app::kExitOk;
    });
  });
}

// The calendars of an account: as stored, or listed again from its provider (--refresh).
core::Result<std::vector<providers::CalendarInfo>> listedCalendars(Context& ctx, vault::Vault& vault,
                                                                   const accounts::Account& account) {
  const auto& clock = core::systemClock();
  accounts::AccountStore store(*ctx.db, vault, clock);
  if (account.provider == model::ProviderKind::CalDav) {
    auto secret = store.credential(account.id);
    if (!secret) return std::unexpected(secret.error());
    auto login = accounts::caldavLogin(account.serverUrl.value_or(""), *secret);
    if (!login) return std::unexpected(login.error());
    auto found = accounts::discoverCalDav(*login, ctx.config.sync.allowPrivateNetworks, clock,
                                          providers::HttpClientOptions{}.totalTimeout);
    if (!found) return std::unexpected(found.error());
    return found->calendars;
  }
  if (account.provider != model::ProviderKind::Google && account.provider != model::ProviderKind::Microsoft) {
    return core::fail(core::ErrorCode::Unavailable, "no adapter for " + std::string(model::toString(account.provider)) +
                                                        " accounts in this version");
  }
  const auto kind = account.provider;
  providers::CurlHttpClient http(oauth::httpClientOptions(insecureLoopback(ctx, kind)));
  accounts::OAuthConnections connections(*ctx.db, vault, store, http, clock);
  auto offered = offer(ctx, kind, http, connections);
  if (!offered) return std::unexpected(offered.error());
  accounts::TokenBroker broker(*ctx.db, store, connections, http, clock);
  auto provider = kind == model::ProviderKind::Google
                      ? accounts::openGoogle(account, broker, ctx.config.google, accounts::ProviderEnvironment{})
                      : accounts::openMicrosoft(account, broker, ctx.config.microsoft, accounts::ProviderEnvironment{});
  if (!provider) return std::unexpected(provider.error());
  return (*provider)->listCalendars();
}

void addCalendarsCommand(CLI::App* cmd, Context& ctx, int& exitCode) {
  static std::string accountId;
  static bool refresh = false;
  auto* calendars = cmd->add_subcommand("calendars", "An account's calendars with the ids pairs use");
  calendars->add_option("ACCOUNT", accountId, "The account id (see `accounts list`)")->required();
  calendars->add_flag("--refresh", refresh, "List them again from the provider (and store what changed)");
  calendars->add_flag("--json", ctx.json, "Print JSON");
  calendars->callback([&] {
    withVault(ctx, exitCode, [&](vault::Vault& vault) {
      const auto& clock = core::systemClock();
      auto account = accounts::AccountStore(*ctx.db, vault, clock).get(accountId);
      if (!account) return failWith(account.error().code == core::ErrorCode::NotFound ? "no account " + accountId : account.error().message);
      sync::CalendarStore store(*ctx.db, clock);
      if (refresh) {
        auto found = listedCalendars(ctx, vault, *account);
        if (!found) return failWith("cannot list the account's calendars: " + found.error().message);
        for (const auto& c : *found) {
          if (auto saved = store.upsert(account->id, c); !saved) return failWith(saved.error());
        }
      }
      auto stored = store.listForAccount(account->id);
      if (!stored) return failWith(stored.error());
      nlohmann::json out = nlohmann::json::array();
      for (const auto& c : *stored) {
        out.push_back({{"id", c.id}, {"name", c.displayName}, {"provider_calendar_id", c.providerCalendarId},
                       {"time_zone", c.timeZone}, {"writable", c.writable}});
        if (!ctx.json) {
          std::cout << c.id << "  " << c.displayName << "  " << c.providerCalendarId << (c.writable ? "" : "  (read-only)") << "\n";
        }
      }
      if (ctx.json) std::cout << out.dump(2) << "\n";
      return app::kExitOk;
    });
  });
}

}  // namespace

void addAccountsCommands(CLI::App& app, Context& ctx, int& exitCode) {
  auto* cmd = app.add_subcommand("accounts", "Connected calendar accounts");
  cmd->require_subcommand(1);

  addListCommand(cmd, ctx, exitCode);
  addConnectCommand(cmd, ctx, exitCode, {model::ProviderKind::Google, "Google", "google"});
  addConnectCommand(cmd, ctx, exitCode, {model::ProviderKind::Microsoft, "Microsoft 365", "microsoft"});
  addCalendarsCommand(cmd, ctx, exitCode);

  static std::string user, email, serverUrl, username;
  auto* add = cmd->add_subcommand(
      "add-caldav",
      "Connect a CalDAV account (iCloud, Fastmail, Nextcloud...): reads the app-specific password from "
      "stdin, discovers the calendars and lists them with the ids pairs use");
  add->add_option("USER", user, "The calgate user's email address")->required();
  add->add_option("ACCOUNT_EMAIL", email,
                  "A label for the account, normally its address (organisation policies follow what the server "
                  "proves, never this)")
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
      auto found = accounts::discoverCalDav(login, ctx.config.sync.allowPrivateNetworks, clock,
                                            providers::HttpClientOptions{}.totalTimeout);
      if (!found) return failWith("cannot list the account's calendars: " + found.error().message);

      accounts::AccountStore accounts(*ctx.db, vault, clock);
      auto account = accounts.create({owner->id, model::ProviderKind::CalDav, email, serverUrl,
                                      accounts::withTypedFallback(found->identities, email)},
                                     accounts::caldavCredential(login));
      if (!account) return failWith(account.error());
      sync::CalendarStore store(*ctx.db, clock);
      nlohmann::json out = {{"account_id", account->id},
                            {"domains", model::policyDomains(account->identities)},
                            {"inside", model::memberDomains(account->identities)},
                            {"calendars", nlohmann::json::array()}};
      if (!ctx.json) {
        std::cout << "account " << account->id << " (" << email << ") connected\n"
                  << "  proven: " << describeIdentities(account->identities) << "\n";
      }
      for (const auto& c : found->calendars) {
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
