#pragma once
/// The push channels calgate opened on calendars (table push_channels): ids, the provider's
/// resource id, expiry, and the SHA-256 of each channel's token (never the token). A channel is
/// recorded as "opening" before the provider is asked (Google may notify before it answers), then
/// made active with what the provider granted. Thread-safe.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"

#include <optional>
#include <string>
#include <vector>

namespace calgate::sync {

struct PushChannel {
  std::string id;          ///< calgate's channel id
  std::string provider;    ///< "google"
  std::string calendarId;  ///< calgate's calendar id
  std::string resourceId;  ///< the provider's ("" while opening)
  std::string tokenSha256;
  bool active = false;     ///< false: still opening
  long long expiresAt = 0;
  long long createdAt = 0;
};

class PushChannelStore {
 public:
  PushChannelStore(store::Database& db, const core::Clock& clock) : db_(db), clock_(clock) {}

  /// Records a channel about to be opened, with the hash of its token; it expires at `expiresAt`.
  core::Result<void> opening(const std::string& id, const std::string& provider, const std::string& calendarId,
                             const std::string& tokenSha256, long long expiresAt);
  /// The provider opened it: its resource id and granted expiry. NotFound when the row is gone.
  core::Result<void> activate(const std::string& id, const std::string& resourceId, long long expiresAt);
  core::Result<std::optional<PushChannel>> find(const std::string& id);
  /// Every channel, oldest first.
  core::Result<std::vector<PushChannel>> all();
  core::Result<void> remove(const std::string& id);

 private:
  store::Database& db_;
  const core::Clock& clock_;
};

}  // namespace calgate::sync
