#include "calgate/accounts/token_broker.hpp"

#include "calgate/audit/audit_log.hpp"
#include "calgate/core/log.hpp"

namespace calgate::accounts {
namespace {

using core::ErrorCode;

core::Error needsReauth(const Account& account) {
  return core::Error{ErrorCode::Unauthorized,
                     "account " + account.id + " needs to be connected again: " +
                         (account.statusReason.empty() ? std::string("the provider refused its authorisation")
                                                       : account.statusReason),
                     std::nullopt, core::Cause::InvalidGrant};
}

}  // namespace

TokenBroker::TokenBroker(store::Database& db, AccountStore& accounts, const OAuthConnections& connections,
                         providers::HttpClient& http, const core::Clock& clock, std::chrono::seconds refreshMargin)
    : db_(db), accounts_(accounts), connections_(connections), http_(http), clock_(clock), margin_(refreshMargin) {}

std::shared_ptr<TokenBroker::Entry> TokenBroker::entry(const std::string& accountId) {
  std::lock_guard lock(mutex_);
  auto& e = entries_[accountId];
  if (!e) e = std::make_shared<Entry>();
  return e;
}

void TokenBroker::forget(const std::string& accountId) {
  std::lock_guard lock(mutex_);
  entries_.erase(accountId);
}

core::Result<oauth::Secret> TokenBroker::accessToken(const std::string& accountId) {
  auto e = entry(accountId);
  std::lock_guard refreshing(e->refreshing);
  if (!e->access.empty() && e->expiresAt - margin_.count() > clock_.nowUnixSeconds()) return e->access;
  auto account = accounts_.get(accountId);
  if (!account) return std::unexpected(account.error());
  if (account->status == "needs_reauth") return std::unexpected(needsReauth(*account));
  const OAuthProvider* provider = connections_.provider(account->provider);
  if (!provider) {
    return core::fail(ErrorCode::Invalid, std::string(model::toString(account->provider)) +
                                              " is not configured on this gateway (oauth section)");
  }
  if (auto ok = refresh(*account, *provider, *e); !ok) return std::unexpected(ok.error());
  return e->access;
}

core::Result<void> TokenBroker::refresh(const Account& account, const OAuthProvider& provider, Entry& e) {
  for (int attempt = 0; attempt < 2; ++attempt) {  // a second time only after a re-authorisation meanwhile
    auto stored = accounts_.versionedCredential(account.id);
    if (!stored) return std::unexpected(stored.error());
    if (e.unsavedFor != stored->version) e.unsaved.clear();  // replaced since: that one is authoritative
    auto refreshToken = e.unsaved.empty() ? refreshTokenOf(stored->secret) : core::Result<oauth::Secret>(e.unsaved);
    if (!refreshToken) return std::unexpected(refreshToken.error());
    if (!e.unsaved.empty()) {  // a rotated token a failed write left in memory: store it before anything else
      auto saved = accounts_.replaceCredentialIf(account.id, oauthCredential(e.unsaved), stored->version);
      if (!saved) return std::unexpected(saved.error());
      e.unsaved.clear();
      if (!*saved) continue;
      stored = accounts_.versionedCredential(account.id);
      if (!stored) return std::unexpected(stored.error());
    }
    auto tokens = oauth::refresh(http_, provider.client, *refreshToken, clock_);
    if (!tokens) {
      if (tokens.error().cause != core::Cause::InvalidGrant) return std::unexpected(tokens.error());  // transient
      auto marked = markNeedsReauth(account, stored->version,
                                    "the provider no longer accepts its authorisation (revoked, expired or replaced)");
      if (!marked) return std::unexpected(marked.error());
      if (!*marked) continue;  // connected again meanwhile: try the new credential
      auto now = accounts_.get(account.id);
      return std::unexpected(needsReauth(now ? *now : account));
    }
    if (!tokens->refreshToken.empty() && tokens->refreshToken != *refreshToken) {
      // rotated: the new refresh token is stored before the new access token is used
      auto saved = accounts_.replaceCredentialIf(account.id, oauthCredential(tokens->refreshToken), stored->version);
      if (!saved) {
        e.unsaved = tokens->refreshToken;  // the old one is spent: keep the new one for the next try
        e.unsavedFor = stored->version;
        core::log::error("oauth.rotation_not_stored", {{"account", account.id}, {"error", saved.error().describe()}});
        return std::unexpected(saved.error());
      }
      if (!*saved) continue;  // connected again meanwhile: this grant is not the account's any more
    }
    e.access = tokens->accessToken;
    e.expiresAt = tokens->expiresAt;
    return {};
  }
  return core::fail(ErrorCode::Unavailable, "account " + account.id + " changed while its token was refreshed; try again");
}

core::Result<bool> TokenBroker::markNeedsReauth(const Account& account, const std::string& version,
                                                const std::string& reason) {
  auto marked = accounts_.setStatusIf(account.id, "needs_reauth", reason, version);
  if (!marked || !*marked) return marked;
  audit::AuditEntry e;
  e.userId = account.userId;
  e.action = "account.needs_reauth";
  e.objectRef = "account/" + account.id;
  e.decision = "paused";
  e.reasons = {reason, "its pairs wait until the same identity is connected again"};
  (void)audit::AuditLog(db_, clock_).append(e);
  core::log::warn("oauth.needs_reauth", {{"account", account.id}});
  return true;
}

core::Result<void> TokenBroker::revoke(const std::string& accountId) {
  auto account = accounts_.get(accountId);
  if (!account) return std::unexpected(account.error());
  const OAuthProvider* provider = connections_.provider(account->provider);
  if (!provider || provider->client.endpoints.revocation.empty()) return {};  // nothing to revoke there
  auto credential = accounts_.credential(accountId);
  if (!credential) return std::unexpected(credential.error());
  auto refreshToken = refreshTokenOf(*credential);
  if (!refreshToken) return std::unexpected(refreshToken.error());
  forget(accountId);
  return oauth::revoke(http_, provider->client, *refreshToken, "refresh_token");
}

}  // namespace calgate::accounts
