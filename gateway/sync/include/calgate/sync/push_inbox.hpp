#pragma once
/// Push notifications as they arrive at the webhook endpoints (untrusted input: anyone can post
/// to a public URL). A notification is checked against the channel calgate recorded
/// (push_channels.hpp): its id, the SHA-256 of its token compared in constant time, and the
/// provider's resource id once known. A genuine change notification queues a sync of every
/// runnable pair that reads the calendar, coalesced with the one queued or waiting already
/// (JobQueue, key "sync:<pair id>"), so a burst of notifications is one run; nothing calls a
/// provider here, so the endpoint can answer at once. Thread-safe.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"
#include "calgate/sync/job_queue.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <set>
#include <string>
#include <string_view>

namespace calgate::sync {

/// The headers of one Google notification (CONTRACT.md §1 "Push (watch)"), as received: any may
/// be missing or hostile. Google sends no body.
struct GoogleNotification {
  std::string channelId;      ///< X-Goog-Channel-ID
  std::string token;          ///< X-Goog-Channel-Token
  std::string resourceId;     ///< X-Goog-Resource-ID
  std::string resourceState;  ///< X-Goog-Resource-State: sync | exists | not_exists
  std::string messageNumber;  ///< X-Goog-Message-Number (increasing, not consecutive)
};

/// What became of a notification.
enum class PushOutcome {
  Queued,     ///< a change: the pairs reading the calendar are queued (or were already)
  NoWork,     ///< genuine, nothing to do (the "sync" message that opens a channel)
  Unknown,    ///< no such channel (stopped, expired, never calgate's): no work
  Rejected,   ///< malformed or forged (wrong token or resource): no work
};

struct PushReceipt {
  PushOutcome outcome = PushOutcome::Rejected;
  std::size_t pairsQueued = 0;  ///< syncs newly queued (others were queued already)
  std::string reason;           ///< why it was rejected, for logs (never a header's value)
};

class PushInbox {
 public:
  PushInbox(store::Database& db, const core::Clock& clock, QueueOptions queue = {});
  /// Checks and acts on a Google notification. Errors only when the database fails.
  core::Result<PushReceipt> google(const GoogleNotification& notification);
  /// Checks and acts on a Graph POST (CONTRACT.md §2): `{"value": [...]}` of change notifications
  /// and lifecycle events, possibly of several subscriptions, at most kMaxGraphItems. Each item is
  /// found by its clientState (the channel's token, by its hash) and must name the channel's
  /// subscription. A change or `missed` queues the pairs reading the calendar;
  /// `reauthorizationRequired` marks the channel for the upkeep job; `subscriptionRemoved` forgets
  /// it (the upkeep opens a new one) and queues the pairs. The receipt is Queued when any item was
  /// genuine, else Rejected when any was forged or malformed, else Unknown. Errors only when the
  /// database fails.
  core::Result<PushReceipt> microsoft(std::string_view body);
  static constexpr std::size_t kMaxGraphItems = 100;

 private:
  core::Result<std::size_t> queueReaders(const std::string& calendarId);
  core::Result<PushOutcome> graphItem(const nlohmann::json& item, std::set<std::string>& changed, bool& upkeep);
  store::Database& db_;
  const core::Clock& clock_;
  JobQueue queue_;
};

/// The SHA-256 (hex) a channel's token is recorded as.
std::string channelTokenHash(std::string_view token);

}  // namespace calgate::sync
