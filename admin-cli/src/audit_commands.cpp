// calgate-admin audit: verify the chain in place, export it for a reviewer (JSON Lines with
// signed checkpoints), verify an export offline (no database), print the key a reviewer pins,
// and sign the head now.

#include "calgate/accounts/user_erasure.hpp"
#include "calgate/accounts/user_store.hpp"
#include "calgate/policy/content_hash.hpp"
#include "calgate/audit/audit_export.hpp"
#include "calgate/audit/audit_log.hpp"
#include "calgate/audit/checkpoints.hpp"
#include "calgate/audit/export_verifier.hpp"
#include "calgate/core/clock.hpp"
#include "calgate/core/signing.hpp"
#include "context.hpp"
#include "vault_access.hpp"

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <vector>

namespace calgate::admin {
namespace {

// "2026-12-01", "2026-12-01T08:30:00Z" or unix seconds; nullopt for anything else.
std::optional<long long> parseTime(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos && text.size() <= 12) {
    return std::stoll(text);
  }
  std::tm tm{};
  char tail = 0;
  if (text.size() == 10 && std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tail) == 3) {
  } else if (text.size() == 20 && std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                                              &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &tail) == 6) {
  } else {
    return std::nullopt;
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<long long>(timegm(&tm));
}

// The audit signing key, from its seed in the vault.
core::Result<core::SigningKey> signingKey(vault::Vault& v) {
  auto seed = v.serverSecret(audit::kSigningPurpose);
  if (!seed) return std::unexpected(seed.error());
  return core::SigningKey::fromSeed(std::string_view(reinterpret_cast<const char*>(seed->data()), seed->size()));
}

// "SEQ:HASH" (what an earlier verification printed to keep); nullopt for anything else.
std::optional<audit::Anchor> parseAnchor(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || text.size() - colon - 1 != 64) return std::nullopt;
  const std::string seq = text.substr(0, colon), hash = text.substr(colon + 1);
  if (seq.find_first_not_of("0123456789") != std::string::npos || seq.size() > 18) return std::nullopt;
  if (hash.find_first_not_of("0123456789abcdef") != std::string::npos) return std::nullopt;
  return audit::Anchor{std::stoll(seq), hash};
}

int verifyFile(const std::string& file, const std::string& publicKey, const std::vector<std::string>& anchorTexts) {
  std::vector<audit::Anchor> anchors;
  for (const auto& text : anchorTexts) {
    auto a = parseAnchor(text);
    if (!a) return failWith("not an anchor: " + text + " (SEQ:HASH, as a previous verification printed it)", app::kExitUsage);
    anchors.push_back(*a);
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return failWith("cannot read " + file);
  auto verified = audit::verifyExport(in, publicKey, anchors);
  if (!verified) return failWith(file + ": " + verified.error().message);
  std::cout << "export intact and signed by key " << core::keyIdOf(publicKey) << ": entries " << verified->firstSeq << " to "
            << verified->lastSeq << " (" << verified->entries << " whole, " << verified->links << " as links, "
            << verified->checkpoints << " checkpoints)\n"
            << "keep this anchor for the next export: --anchor " << verified->lastSeq << ":" << verified->lastHash << "\n";
  return app::kExitOk;
}

void addVerify(CLI::App* audit, Context& ctx, int& exitCode) {
  static std::string file, publicKey;
  static std::vector<std::string> anchors;
  auto* verify = audit->add_subcommand(
      "verify", "Recompute the chain in the database (fails when an entry was altered or removed), or with --file an "
                "export offline, without the database or a configuration");
  verify->add_option("--file", file, "An export (calgate-admin audit export) to verify offline; needs --public-key");
  verify->add_option("--public-key", publicKey,
                     "The signing key a reviewer pinned (calgate-admin audit public-key); in the database, checkpoints "
                     "are checked against it too");
  verify->add_option("--anchor", anchors,
                     "SEQ:HASH printed by an earlier verification: the export must still hold that entry with that "
                     "hash (catches a chain rewritten in the database with its checkpoints removed); repeatable");
  verify->callback([&] {
    if (!file.empty()) {
      exitCode = publicKey.empty() ? failWith("--file needs --public-key (the key you pinned)", app::kExitUsage)
                                   : verifyFile(file, publicKey, anchors);
      return;
    }
    if (auto rc = ctx.openCurrent()) {
      exitCode = *rc;
      return;
    }
    auto n = audit::AuditLog(*ctx.db, core::systemClock()).verify(publicKey);
    if (!n) {
      exitCode = failWith(n.error().message);
      return;
    }
    std::cout << "audit log intact: " << *n << " entries" << (publicKey.empty() ? "" : ", checkpoints signed by the given key")
              << "\n";
    exitCode = app::kExitOk;
  });
}

// Whose entries --user EMAIL means: a user's id by address, or an erased user's by the keyed hash
// of the address their erasure record keeps (the most recent erasure of that address).
core::Result<std::string> userIdOf(Context& ctx, vault::Vault& v, const std::string& email) {
  auto user = accounts::UserStore(*ctx.db, core::systemClock()).findUserByEmail(email);
  if (user) return user->id;
  if (user.error().code != core::ErrorCode::NotFound) return std::unexpected(user.error());
  auto normal = accounts::normaliseEmail(email);
  auto key = v.serverSecret(policy::kHashKeyPurpose);
  if (!normal || !key) return core::fail(core::ErrorCode::NotFound, "no user " + email);
  auto erased = accounts::erasedUserIds(*ctx.db, std::string_view(reinterpret_cast<const char*>(key->data()), key->size()), *normal);
  if (!erased) return std::unexpected(erased.error());
  if (erased->empty()) {
    return core::fail(core::ErrorCode::NotFound, "no user " + email + ", and no erasure of that address on record (erasure "
                                                 "records made before migration 0023 name no user)");
  }
  std::cerr << "calgate-admin: " << email << " was erased; exporting the entries of the erased user " << erased->back() << "\n";
  return erased->back();
}

void addExport(CLI::App* audit, Context& ctx, int& exitCode) {
  static std::string since, until, user, out;
  auto* cmd = audit->add_subcommand(
      "export", "Write the audit log as JSON Lines with its chain hashes and signed checkpoints, sealed with the audit key "
                "(verify it with: audit verify --file F --public-key K)");
  cmd->add_option("--since", since, "Entries at or after this time (2026-12-01, 2026-12-01T08:00:00Z or unix seconds)");
  cmd->add_option("--until", until, "Entries at or before this time");
  cmd->add_option("--user", user,
                  "Only this user's entries whole (an erased user's too, found by the keyed hash of the address); the "
                  "others' as links (hashes only), so the chain still verifies");
  cmd->add_option("--out", out, "Write to this file (mode 0600) instead of standard output; progress goes to standard error");
  cmd->callback([&] {
    audit::ExportFilter filter;
    for (auto [text, slot] : {std::pair{&since, &filter.since}, std::pair{&until, &filter.until}}) {
      if (text->empty()) continue;
      *slot = parseTime(*text);
      if (!*slot) {
        exitCode = failWith("not a time: " + *text + " (2026-12-01, 2026-12-01T08:00:00Z or unix seconds)", app::kExitUsage);
        return;
      }
    }
    withVault(ctx, exitCode, [&](vault::Vault& v) -> int {
      if (!user.empty()) {
        auto id = userIdOf(ctx, v, user);
        if (!id) return failWith(id.error());
        filter.userId = *id;
      }
      auto key = signingKey(v);
      if (!key) return failWith(key.error());
      std::ofstream file;
      if (!out.empty()) {
        file.open(out, std::ios::binary | std::ios::trunc);
        if (!file) return failWith("cannot write " + out);
        // only its owner reads it, also when the file existed before with other permissions
        std::error_code ec;
        std::filesystem::permissions(out, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                     std::filesystem::perm_options::replace, ec);
      }
      std::ostream& sink = out.empty() ? std::cout : file;
      auto progress = [&](long long seq, long long last) {
        if (!out.empty()) std::cerr << "\rexported up to entry " << seq << " of " << last << std::flush;
      };
      auto done = audit::exportAudit(*ctx.db, core::systemClock(), *key, filter, sink, progress);
      if (!out.empty()) std::cerr << "\n";
      if (!done) return failWith(done.error());
      if (!out.empty()) {
        std::cerr << "wrote " << out << ": entries " << done->firstSeq << " to " << done->lastSeq << " (" << done->entries
                  << " whole, " << done->links << " as links, " << done->checkpoints << " checkpoints)\n";
      }
      return app::kExitOk;
    });
  });
}

}  // namespace

void addAuditCommands(CLI::App& app, Context& ctx, int& exitCode) {
  auto* audit = app.add_subcommand("audit", "The hash-chained audit log: verify, export for a reviewer, the signing key");
  audit->require_subcommand(1);
  addVerify(audit, ctx, exitCode);
  addExport(audit, ctx, exitCode);

  auto* key = audit->add_subcommand("public-key", "Print the Ed25519 public key that signs checkpoints and exports (base64): "
                                                  "what a reviewer pins");
  key->callback([&] {
    withVault(ctx, exitCode, [&](vault::Vault& v) -> int {
      auto k = signingKey(v);
      if (!k) return failWith(k.error());
      std::cout << k->publicKey() << "\n";
      std::cerr << "key id " << k->keyId() << "\n";
      return app::kExitOk;
    });
  });

  auto* checkpoint = audit->add_subcommand("checkpoint", "Sign the newest entry now (calgate serve does it hourly)");
  checkpoint->callback([&] {
    withVault(ctx, exitCode, [&](vault::Vault& v) -> int {
      auto k = signingKey(v);
      if (!k) return failWith(k.error());
      auto c = audit::Checkpoints(*ctx.db, core::systemClock(), *k).signHead();
      if (!c) return failWith(c.error());
      if (*c) std::cout << "signed entry " << (*c)->seq << " (" << (*c)->entrySha256 << ")\n";
      else std::cout << "nothing to sign: the newest entry is signed already, or the log is empty\n";
      return app::kExitOk;
    });
  });
}

}  // namespace calgate::admin
