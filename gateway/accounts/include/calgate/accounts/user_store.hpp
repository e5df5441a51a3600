#pragma once
/// Users and their API tokens. A token's secret is returned exactly once, when it is made;
/// the store keeps only its SHA-256.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace calgate::accounts {

struct User {
  std::string id;
  std::string email;
  long long createdAt = 0;
  std::optional<long long> disabledAt;
};

struct ApiToken {
  std::string id;
  std::string userId;
  std::string label;
  long long createdAt = 0;
  std::optional<long long> lastUsedAt;
  std::optional<long long> revokedAt;
};

/// A token just made: `secret` is the bearer value to hand to the user, shown once.
struct IssuedToken {
  ApiToken token;
  std::string secret;
};

/// Who a bearer token belongs to.
struct Principal {
  User user;
  ApiToken token;
};

/// Normalises and checks an email address (trimmed, lower-cased, one '@', sane lengths and
/// characters). Invalid with the reason otherwise.
core::Result<std::string> normaliseEmail(std::string_view email);

/// Thread-safe: every call borrows its own session.
class UserStore {
 public:
  UserStore(store::Database& db, const core::Clock& clock);

  /// Creates a user and a first token. Conflict if the email is taken, Invalid if malformed.
  core::Result<std::pair<User, IssuedToken>> addUser(std::string_view email, std::string_view tokenLabel);
  /// Creates a user without a token (a self-sign-up in the portal). Errors as addUser().
  core::Result<User> createUser(std::string_view email);
  core::Result<std::vector<User>> listUsers();
  core::Result<User> findUserByEmail(std::string_view email);
  /// NotFound for an unknown id.
  core::Result<User> getUser(std::string_view id);
  /// Suspends (`disabled`) or reinstates a user: a suspended user's tokens stop working at once,
  /// its pairs stop syncing and its feeds answer 404; its portal sessions end and its unused
  /// sign-in links go (for good: reinstating brings back neither); nothing else is deleted. NotFound for an unknown
  /// email. Returns the user as it is now.
  core::Result<User> setDisabled(std::string_view email, bool disabled);

  /// Issues another token for an existing user. NotFound if there is no such user.
  core::Result<IssuedToken> issueToken(std::string_view email, std::string_view label);
  core::Result<std::vector<ApiToken>> listTokens(std::string_view email);
  /// Revokes a token by id. NotFound if unknown; revoking twice is not an error.
  core::Result<ApiToken> revokeToken(std::string_view tokenId);
  /// Retention: tokens revoked before `before` (unix seconds) go. Returns how many.
  core::Result<std::size_t> purgeRevokedTokens(long long before);

  /// Resolves a bearer secret. Unauthorized, with the same message, for an unknown, revoked or
  /// malformed token or a disabled user, so callers cannot tell which part failed.
  core::Result<Principal> authenticate(std::string_view secret);

  /// The token with this id and its user, as they are now (revoked or disabled included), for a
  /// request already authenticated with it. NotFound when the token is gone.
  core::Result<Principal> principalOfToken(std::string_view tokenId);

 private:
  /// Inserts the user and runs `also` in the same transaction.
  core::Result<User> insertUser(std::string_view email,
                                const std::function<core::Result<void>(soci::session&, const User&)>& also);
  store::Database& db_;
  const core::Clock& clock_;
};

}  // namespace calgate::accounts
