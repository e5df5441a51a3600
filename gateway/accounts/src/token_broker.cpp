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
  auto credential = accounts_.credential(account.id);
  if (!credential) return std::unexpected(credential.error());
  auto refreshToken = refreshTokenOf(*credential);
  if (!refreshToken) return std::unexpected(refreshToken.error());
  auto tokens = oauth::refresh(http_, provider.client, *refreshToken, clock_);
  if (!tokens) {
    if (tokens.error().cause == core::Cause::InvalidGrant) {
      markNeedsReauth(account, "the provider no longer accepts its authorisation (revoked, expired or replaced)");
      auto now = accounts_.get(account.id);
      return std::unexpected(needsReauth(now ? *now : account));
    }
    return std::unexpected(tokens.error());  // transient: the account stays as it is
  }
  if (!tokens->refreshToken.empty() && tokens->refreshToken != *refreshToken) {
    // rotated: the new refresh token is stored before the new access token is used
    if (auto ok = accounts_.replaceCredential(account.id, oauthCredential(tokens->refreshToken)); !ok) {
      core::log::error("oauth.rotation_not_stored", {{"account", account.id}, {"error", ok.error().describe()}});
      return std::unexpected(ok.error());
    }
  }
  e.access = tokens->accessToken;
  e.expiresAt = tokens->expiresAt;
  return {};
}

void TokenBroker::markNeedsReauth(const Account& account, const std::string& reason) {
  if (auto ok = accounts_.setStatus(account.id, "needs_reauth", reason); !ok) {
    core::log::error("oauth.status_not_stored", {{"account", account.id}, {"error", ok.error().describe()}});
  }
  audit::AuditEntry e;
  e.userId = account.userId;
  e.action = "account.needs_reauth";
  e.objectRef = "account/" + account.id;
  e.decision = "paused";
  e.reasons = {reason, "its pairs wait until the same identity is connected again"};
  (void)audit::AuditLog(db_, clock_).append(e);
  core::log::warn("oauth.needs_reauth", {{"account", account.id}});
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
