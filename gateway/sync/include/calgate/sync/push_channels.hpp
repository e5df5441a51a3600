#pragma once
/// The push channels calgate opened on calendars (table push_channels): ids, the provider's
/// resource id, expiry, and the SHA-256 of each channel's token (never the token). A channel is
/// recorded as "opening" before the provider is asked (Google may notify before it answers), then
/// made active with what the provider granted. Thread-safe.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace calgate::sync {

struct PushChannel {
  std::string id;          ///< calgate's channel id
  std::string provider;    ///< "google" | "microsoft"
  std::string calendarId;  ///< calgate's calendar id
  std::string resourceId;  ///< the provider's ("" while opening)
  std::string tokenSha256;
  bool active = false;     ///< false: still opening
  long long expiresAt = 0;
  long long createdAt = 0;
  bool reauthorize = false;  ///< the provider asked to authorise it again (Graph lifecycle event)
};

/// A provider's refusal to open a channel on a calendar: polled until `retryAt`.
struct PushRefusal {
  std::string calendarId;
  std::string reason;
  int attempts = 0;
  long long retryAt = 0;
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
  /// The channel whose token has this SHA-256 (Graph's notifications carry the token as clientState).
  core::Result<std::optional<PushChannel>> findByTokenHash(const std::string& tokenSha256);
  /// The provider extended it to `expiresAt` (Graph: PATCH).
  core::Result<void> renewed(const std::string& id, long long expiresAt);
  /// Marks (or clears) the provider's demand to authorise it again.
  core::Result<void> setReauthorize(const std::string& id, bool needed);
  /// Every channel, oldest first.
  core::Result<std::vector<PushChannel>> all();
  /// The channels of one calendar, oldest first.
  core::Result<std::vector<PushChannel>> onCalendar(const std::string& calendarId);
  core::Result<void> remove(const std::string& id);

  /// Records that opening a channel on the calendar failed again: asked again after 10 minutes,
  /// doubling per attempt up to a day. Returns the refusal as recorded.
  core::Result<PushRefusal> refused(const std::string& calendarId, const std::string& reason);
  /// Every recorded refusal.
  core::Result<std::vector<PushRefusal>> refusals();

  /// One calendar's push state (its own rows only): until when a live channel notifies it (none:
  /// polled), and the provider's refusal, if one is recorded.
  struct CalendarPush {
    std::optional<long long> notifiedUntil;
    std::optional<PushRefusal> refusal;
  };
  core::Result<CalendarPush> ofCalendar(const std::string& calendarId);
  /// A channel opened: the calendar's refusal, if any, is over.
  core::Result<void> clearRefusal(const std::string& calendarId);
  /// Every refusal forgotten (an operator fixed what made the providers refuse): the next upkeep
  /// round asks again. Returns how many there were.
  core::Result<std::size_t> clearRefusals();
  /// Live channels (active, not expired) per provider, for /metrics.
  core::Result<std::map<std::string, long long>> liveByProvider();

  /// Takes the upkeep lease for `holder` until `expiresAt` when nobody holds it (or the holder's
  /// ran out): true when taken.
  core::Result<bool> takeUpkeep(const std::string& holder, long long expiresAt);
  core::Result<void> releaseUpkeep(const std::string& holder);

 private:
  store::Database& db_;
  const core::Clock& clock_;
};

}  // namespace calgate::sync
