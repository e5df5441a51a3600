#pragma once
/// Availability feeds: busy-only views of chosen calendars at capability URLs. Only the
/// configuration is stored - the token's SHA-256, the calendars, label and window, and the
/// optional PIN's scrypt hash - never event content (the feed is rendered live per request).

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace calgate::feeds {

struct NewFeed {
  std::string userId;
  std::string label = "Busy";
  std::vector<std::string> calendarIds;
  int windowPastDays = 7;
  int windowFutureDays = 60;
  std::optional<std::string> pin;  ///< 4 to 12 digits
};

struct Feed {
  std::string id;
  std::string userId;
  std::string label;
  std::vector<std::string> calendarIds;
  int windowPastDays = 7;
  int windowFutureDays = 60;
  bool pinProtected = false;
  long long createdAt = 0;
  std::optional<long long> revokedAt;
};

/// A feed just made: `token` (the capability in its URL) is returned this once.
struct IssuedFeed {
  Feed feed;
  std::string token;
};

/// The outcome of a PIN check.
struct PinCheck {
  bool accepted = false;
  /// Set while the feed is locked after too many wrong PINs (then even the right PIN is refused).
  std::optional<std::chrono::seconds> lockedFor;
};

/// Wrong PINs before a lock; the lock lasts kFirstLock, doubling with every further lock (max 1 day).
inline constexpr int kPinAttempts = 5;
inline constexpr std::chrono::seconds kFirstLock{15 * 60};

/// Thread-safe.
class FeedStore {
 public:
  FeedStore(store::Database& db, const core::Clock& clock) : db_(db), clock_(clock) {}

  /// Invalid for a bad label, window (past 0..90, future 1..366), calendar list (1..20) or PIN.
  core::Result<IssuedFeed> create(const NewFeed& feed);
  core::Result<Feed> get(const std::string& id);
  core::Result<std::vector<Feed>> listForUser(const std::string& userId);
  /// Revokes (the URL stops working at once); revoking twice is not an error.
  core::Result<Feed> revoke(const std::string& id);
  /// Removes calendars (of a deleted account) from the user's feeds. A feed left without calendars
  /// stays and serves an empty calendar until it is revoked.
  core::Result<void> forgetCalendars(const std::string& userId, const std::vector<std::string>& calendarIds);
  /// The live feed behind a token; NotFound for an unknown, malformed or revoked token, and for
  /// a feed of a suspended user.
  core::Result<Feed> findByToken(std::string_view token);
  /// Checks a PIN against the feed's hash, counting failures per client (`client`: its address;
  /// IPv6 by /64) and locking that client out after kPinAttempts. Other clients are unaffected:
  /// a stranger guessing PINs cannot lock the owner's viewers out.
  core::Result<PinCheck> checkPin(const std::string& feedId, std::string_view pin, std::string_view client,
                                  std::string_view hashKey = {});
  /// Retention: feeds revoked before `revokedBefore` go (with their PIN attempts), and PIN
  /// attempts untouched since `staleBefore` whose lock is over. Returns how many rows went.
  core::Result<std::size_t> purge(long long revokedBefore, long long staleBefore);

 private:
  store::Database& db_;
  const core::Clock& clock_;
};

/// True for 4 to 12 ASCII digits.
bool wellFormedPin(std::string_view pin);
/// True for what FeedStore issues: "cgf_" + 43 base64url characters.
bool wellFormedFeedToken(std::string_view token);

}  // namespace calgate::feeds
