#include "calgate/accounts/user_erasure.hpp"
#include "calgate/accounts/user_store.hpp"
#include "calgate/audit/audit_log.hpp"
#include "calgate/core/clock.hpp"
#include "calgate/portal/login_links.hpp"
#include "calgate/store/migrator.hpp"
#include "calgate/policy/content_hash.hpp"
#include "context.hpp"
#include "vault_access.hpp"

#include <nlohmann/json.hpp>

#include <iomanip>
#include <iostream>

namespace calgate::admin {
namespace {

using app::kExitOk;

// The user store needs a current schema; say so plainly rather than failing on a missing table.
std::optional<int> requireCurrentSchema(Context& ctx) {
  store::Migrator migrator(*ctx.db, store::builtinMigrations(ctx.db->dialect()), core::systemClock());
  auto ok = migrator.verifyCurrent();
  if (!ok) return failWith(ok.error());
  return std::nullopt;
}

nlohmann::json tokenJson(const accounts::ApiToken& t) {
  nlohmann::json j = {{"id", t.id}, {"label", t.label}, {"created_at", isoTime(t.createdAt)}};
  j["last_used_at"] = t.lastUsedAt ? nlohmann::json(isoTime(*t.lastUsedAt)) : nlohmann::json(nullptr);
  j["revoked_at"] = t.revokedAt ? nlohmann::json(isoTime(*t.revokedAt)) : nlohmann::json(nullptr);
  return j;
}

// Opens the database, insists on a current schema, then runs `body` with a UserStore;
// `body` returns the exit code.
template <class Body>
void withUserStore(Context& ctx, int& exitCode, Body body) {
  if (auto rc = ctx.open()) {
    exitCode = *rc;
    return;
  }
  if (auto rc = requireCurrentSchema(ctx)) {
    exitCode = *rc;
    return;
  }
  accounts::UserStore store(*ctx.db, core::systemClock());
  exitCode = body(store);
}

void printIssued(const accounts::IssuedToken& issued, bool json, const std::string& email) {
  if (json) {
    std::cout << nlohmann::json{{"email", email}, {"token_id", issued.token.id}, {"token", issued.secret}}.dump(2)
              << "\n";
    return;
  }
  std::cout << "token id: " << issued.token.id << "\n"
            << "token:    " << issued.secret << "\n"
            << "Store this token now: it is shown only once (calgate keeps only its SHA-256).\n";
}

}  // namespace

void addUsersCommands(CLI::App& app, Context& ctx, int& exitCode) {
  auto* users = app.add_subcommand("users", "Manage users and their API tokens");
  users->require_subcommand(1);

  static std::string email;
  static std::string label = "default";
  static std::string tokenId;

  auto* add = users->add_subcommand("add", "Create a user and print its first API token (shown once)");
  add->add_option("EMAIL", email, "The user's email address")->required();
  add->add_option("--label", label, "A label for the token")->capture_default_str();
  add->add_flag("--json", ctx.json, "Print JSON");
  add->callback([&] {
    withUserStore(ctx, exitCode, [&](accounts::UserStore& store) {
      auto created = store.addUser(email, label);
      if (!created) return failWith(created.error());
      if (!ctx.json) std::cout << "user " << created->first.email << " created (" << created->first.id << ")\n";
      printIssued(created->second, ctx.json, created->first.email);
      return kExitOk;
    });
  });

  auto* list = users->add_subcommand("list", "List users");
  list->add_flag("--json", ctx.json, "Print JSON");
  list->callback([&] {
    withUserStore(ctx, exitCode, [&](accounts::UserStore& store) {
      auto all = store.listUsers();
      if (!all) return failWith(all.error());
      if (ctx.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& u : *all) {
          out.push_back({{"id", u.id}, {"email", u.email}, {"created_at", isoTime(u.createdAt)},
                         {"disabled", u.disabledAt.has_value()}});
        }
        std::cout << out.dump(2) << "\n";
      } else if (all->empty()) {
        std::cout << "no users; create one with: calgate-admin users add EMAIL\n";
      } else {
        std::cout << std::left << std::setw(34) << "ID" << std::setw(36) << "EMAIL" << "CREATED\n";
        for (const auto& u : *all) {
          std::cout << std::setw(34) << u.id << std::setw(36) << u.email << isoTime(u.createdAt)
                    << (u.disabledAt ? "  (disabled)" : "") << "\n";
        }
      }
      return kExitOk;
    });
  });

  static bool confirmed = false;
  auto* erase = users->add_subcommand(
      "delete",
      "Erase a user and all their data (GDPR Art. 17): tokens, accounts and credentials, calendars, pairs, "
      "mappings, feeds. Keeps only a hash of the email. Copies in target calendars stay. Cannot be undone");
  erase->add_option("EMAIL", email, "The user's email address")->required();
  erase->add_flag("--yes", confirmed, "Confirm the erasure (required)");
  erase->callback([&] {
    if (!confirmed) {
      exitCode = failWith("erasing " + email + " cannot be undone; repeat with --yes", app::kExitUsage);
      return;
    }
    // the vault's key: the erasure record keeps only a keyed hash of the address
    withVault(ctx, exitCode, [&](vault::Vault& v) -> int {
      auto key = v.serverSecret(policy::kHashKeyPurpose);
      if (!key) return failWith(key.error());
      accounts::UserStore store(*ctx.db, core::systemClock());
      auto user = store.findUserByEmail(email);
      if (!user) {
        return failWith(user.error().code == core::ErrorCode::NotFound ? "no user " + email : user.error().message);
      }
      auto counts = accounts::eraseUser(*ctx.db, core::systemClock(), user->id, "admin",
                                        std::string_view(reinterpret_cast<const char*>(key->data()), key->size()));
      if (!counts) return failWith(counts.error());
      std::cout << "user " << email << " erased: " << counts->accounts << " account(s), " << counts->calendars
                << " calendar(s), " << counts->pairs << " pair(s), " << counts->mappings << " mapping(s), "
                << counts->feeds << " feed(s), " << counts->tokens << " token(s)\n";
      return kExitOk;
    });
  });

  // A one-time sign-in link to the web portal, for a user without a Google or Microsoft account.
  auto* link = users->add_subcommand(
      "login-link", "Print a one-time sign-in link to the web portal for a user (works once, for portal.login_link_hours)");
  link->add_option("EMAIL", email, "The user's email address")->required();
  link->add_flag("--json", ctx.json, "Print JSON");
  link->callback([&] {
    withUserStore(ctx, exitCode, [&](accounts::UserStore& store) {
      if (ctx.config.server.publicUrl.empty()) {
        return failWith("server.public_url is not set: a sign-in link needs the address browsers reach calgate at",
                        app::kExitUsage);
      }
      auto user = store.findUserByEmail(email);
      if (!user) return failWith(user.error().code == core::ErrorCode::NotFound ? "no user " + email : user.error().message);
      if (user->disabledAt) return failWith("user " + user->email + " is suspended; enable them first");
      auto issued = portal::LoginLinks(*ctx.db, core::systemClock()).issue(user->id, ctx.config.portal.loginLinkLifetime);
      if (!issued) return failWith(issued.error());
      audit::AuditEntry e;
      e.actor = "admin";
      e.userId = user->id;
      e.action = "portal.login_link";
      e.objectRef = "user";
      e.decision = "issued";
      if (auto ok = audit::AuditLog(*ctx.db, core::systemClock()).append(e); !ok) return failWith(ok.error());
      std::string base = ctx.config.server.publicUrl;
      while (base.ends_with("/")) base.pop_back();
      const std::string url = base + "/portal/link/" + issued->secret;
      if (ctx.json) {
        std::cout << nlohmann::json{{"email", user->email}, {"url", url}, {"expires_at", isoTime(issued->expiresAt)}}.dump(2)
                  << "\n";
      } else {
        std::cout << url << "\n"
                  << "Sign-in link for " << user->email << ": works once, until " << isoTime(issued->expiresAt)
                  << ". Give it to " << user->email << " only (it is shown once).\n";
      }
      return kExitOk;
    });
  });

  // Suspension: reversible, nothing deleted, audited.
  for (const bool disable : {true, false}) {
    auto* cmd = users->add_subcommand(
        disable ? "disable" : "enable",
        disable ? "Suspend a user: their tokens stop working, their pairs stop syncing, their feeds answer 404"
                : "Reinstate a suspended user: tokens, pairs and feeds work again");
    cmd->add_option("EMAIL", email, "The user's email address")->required();
    cmd->callback([&, disable] {
      withUserStore(ctx, exitCode, [&](accounts::UserStore& store) {
        auto user = store.setDisabled(email, disable);
        if (!user) {
          return failWith(user.error().code == core::ErrorCode::NotFound ? "no user " + email : user.error().message);
        }
        audit::AuditEntry e;
        e.actor = "admin";
        e.userId = user->id;
        e.action = disable ? "user.disable" : "user.enable";
        e.objectRef = "user";
        e.decision = disable ? "suspended" : "reinstated";
        if (auto ok = audit::AuditLog(*ctx.db, core::systemClock()).append(e); !ok) return failWith(ok.error());
        std::cout << "user " << user->email << (disable ? " suspended" : " reinstated") << "\n";
        return kExitOk;
      });
    });
  }

  auto* tokens = users->add_subcommand("tokens", "Manage a user's API tokens");
  tokens->require_subcommand(1);

  auto* tokAdd = tokens->add_subcommand("add", "Issue another token for a user (shown once)");
  tokAdd->add_option("EMAIL", email, "The user's email address")->required();
  tokAdd->add_option("--label", label, "A label for the token")->capture_default_str();
  tokAdd->add_flag("--json", ctx.json, "Print JSON");
  tokAdd->callback([&] {
    withUserStore(ctx, exitCode, [&](accounts::UserStore& store) {
      auto issued = store.issueToken(email, label);
      if (!issued) return failWith(issued.error());
      printIssued(*issued, ctx.json, email);
      return kExitOk;
    });
  });

  auto* tokList = tokens->add_subcommand("list", "List a user's tokens (ids and dates, never secrets)");
  tokList->add_option("EMAIL", email, "The user's email address")->required();
  tokList->add_flag("--json", ctx.json, "Print JSON");
  tokList->callback([&] {
    withUserStore(ctx, exitCode, [&](accounts::UserStore& store) {
      auto all = store.listTokens(email);
      if (!all) return failWith(all.error());
      if (ctx.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& t : *all) out.push_back(tokenJson(t));
        std::cout << out.dump(2) << "\n";
      } else {
        std::cout << std::left << std::setw(34) << "ID" << std::setw(16) << "LABEL" << std::setw(22) << "CREATED"
                  << "STATE\n";
        for (const auto& t : *all) {
          std::cout << std::setw(34) << t.id << std::setw(16) << t.label << std::setw(22) << isoTime(t.createdAt)
                    << (t.revokedAt ? "revoked " + isoTime(*t.revokedAt) : "active") << "\n";
        }
      }
      return kExitOk;
    });
  });

  auto* revoke = tokens->add_subcommand("revoke", "Revoke a token by id; it stops working at once");
  revoke->add_option("TOKEN-ID", tokenId, "The token id (tok_...), as printed by 'users add' or 'tokens list'")
      ->required();
  revoke->add_flag("--json", ctx.json, "Print JSON");
  revoke->callback([&] {
    withUserStore(ctx, exitCode, [&](accounts::UserStore& store) {
      auto revoked = store.revokeToken(tokenId);
      if (!revoked) return failWith(revoked.error());
      if (ctx.json) std::cout << tokenJson(*revoked).dump(2) << "\n";
      else std::cout << "token " << revoked->id << " revoked\n";
      return kExitOk;
    });
  });
}

}  // namespace calgate::admin
