#pragma once
/// Access tokens of OAuth accounts. They live in memory only; a token is refreshed when it has
/// less than `refreshMargin` left, with one refresh in flight per account (concurrent callers wait
/// for it and share its result). A rotated refresh token is sealed and stored before the new access
/// token is handed out, so a crash can never leave calgate with a refresh token the provider
/// already invalidated. When the provider answers invalid_grant (revoked, expired, rotated away)
/// the account is marked needs_reauth with that reason (audited) and its pairs stop syncing until
/// the same identity connects again: no retry storm, every later call fails at once. A refresh
/// that overlaps a re-authorisation never overwrites the new credential nor marks the re-authorised
/// account (both are conditional on the credential it started from).
/// Thread-safe.

#include "calgate/accounts/account_store.hpp"
#include "calgate/accounts/oauth_connections.hpp"
#include "calgate/core/clock.hpp"
#include "calgate/oauth/client.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace calgate::accounts {

class TokenBroker {
 public:
  TokenBroker(store::Database& db, AccountStore& accounts, const OAuthConnections& connections,
              providers::HttpClient& http, const core::Clock& clock,
              std::chrono::seconds refreshMargin = std::chrono::seconds(300));

  /// A usable access token for the account. Errors: Unauthorized with cause InvalidGrant when the
  /// account needs re-authorisation (now or before); NotFound; Invalid for an account whose
  /// provider is not configured; the provider's transient errors (RateLimited, Unavailable...),
  /// which leave the account as it is.
  core::Result<oauth::Secret> accessToken(const std::string& accountId);

  /// Forgets the account's access token (it was disconnected or re-authorised).
  void forget(const std::string& accountId);

  /// Revokes the account's refresh token where the provider offers revocation (before the account
  /// is deleted). Errors are the provider's; the caller deletes the account regardless.
  core::Result<void> revoke(const std::string& accountId);

 private:
  struct Entry {
    std::mutex refreshing;  ///< held for the whole refresh: one in flight per account
    oauth::Secret access;
    long long expiresAt = 0;
    /// A rotated refresh token the store refused to take (the old one is spent): kept here and
    /// stored first on the next try, while the stored credential is still `unsavedFor`.
    oauth::Secret unsaved;
    std::string unsavedFor;
  };
  std::shared_ptr<Entry> entry(const std::string& accountId);
  core::Result<void> refresh(const Account& account, const OAuthProvider& provider, Entry& entry);
  /// false: the credential was replaced meanwhile (connected again), nothing marked.
  core::Result<bool> markNeedsReauth(const Account& account, const std::string& version, const std::string& reason);

  store::Database& db_;
  AccountStore& accounts_;
  const OAuthConnections& connections_;
  providers::HttpClient& http_;
  const core::Clock& clock_;
  std::chrono::seconds margin_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;
};

}  // namespace calgate::accounts
