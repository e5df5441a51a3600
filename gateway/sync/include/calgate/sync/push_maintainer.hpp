#pragma once
/// Keeps a push channel open on every Google and Microsoft 365 calendar a runnable pair reads
/// (its source, and the target of a two-way pair), as the seeds promise:
/// - Google: events.watch channels of 6 days; Google has no renewal, so one that expires within a
///   day is replaced by a new channel, both open until the new one is recorded, then
///   channels.stop on the old one;
/// - Microsoft 365: subscriptions of 2 days, renewed by PATCH a day before they expire (with the
///   expiry Graph grants), reauthorized when Graph asked (a lifecycle event marks the channel),
///   replaced when Graph no longer has them;
/// - channels no pair needs are stopped; a channel is recorded (with its token's hash) before the
///   provider is asked, since notifications may come before its answer; a failed open is
///   forgotten and tried again next round. One calendar's failure never stops the others'.
/// A provider's refusal (a failed handshake, a refused watch) is recorded per calendar and asked
/// again after 10 minutes, doubling up to a day; meanwhile the calendar is polled. A failed renewal
/// or reauthorization syncs the pairs reading the calendar at once (the channel may be silent
/// already) besides counting the failure. Run as a job
/// ("push_maintain") by any `calgate serve` process, one round at a time across all of them (a
/// lease row); a round that finds another running does nothing (`busy`). Not thread-safe.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"
#include "calgate/sync/push_channels.hpp"
#include "calgate/sync/sync_service.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace calgate::sync {

struct PushConfig {
  /// server.public_url (https): notifications go to <this>/webhooks/google, /webhooks/microsoft and
  /// /webhooks/microsoft/lifecycle. "" turns push off.
  std::string baseUrl;
  std::chrono::seconds googleLifetime{6 * 24 * 3600};
  std::chrono::seconds microsoftLifetime{2 * 24 * 3600};
  std::chrono::seconds renewBefore{24 * 3600};
};

struct PushRound {
  std::size_t opened = 0, renewed = 0, reauthorized = 0, stopped = 0, forgotten = 0, failed = 0;
  bool busy = false;  ///< another round was running (in any process): this one did nothing
  std::vector<std::string> errors;  ///< one per calendar that failed: "<calendar id>: <error>"
};

class PushMaintainer {
 public:
  /// `providers` must outlive the maintainer.
  PushMaintainer(store::Database& db, const core::Clock& clock, ProviderFactory& providers, PushConfig config);
  /// One round. Errors only when the database fails; a provider's refusal is counted in `failed`.
  core::Result<PushRound> maintain();
  /// Told of every operation at a provider (for metrics): the provider ("google" | "microsoft"),
  /// "open" | "renew" | "reauthorize" | "stop", and whether it worked.
  using Observer = std::function<void(std::string_view provider, std::string_view action, bool ok)>;
  void setObserver(Observer observer) { observer_ = std::move(observer); }

 private:
  bool keeps(const PushChannel& channel, const std::set<std::string>& watched) const;
  core::Result<void> openMissing(const std::set<std::string>& watched, const std::set<std::string>& covered, PushRound& round);
  core::Result<bool> open(const CalendarRef& calendar, PushRound& round);
  core::Result<void> run(PushRound& round);
  core::Result<void> tend(const PushChannel& channel, const std::set<std::string>& watched, bool superseded, PushRound& round);
  core::Result<void> renew(const PushChannel& channel, PushRound& round);
  core::Result<void> stop(const PushChannel& channel, PushRound& round);
  core::Result<std::unique_ptr<providers::Provider>> adapterOf(const std::string& calendarId);
  core::Result<void> pollNow(const std::string& calendarId);
  void failed(PushRound& round, const std::string& calendarId, const core::Error& error, std::string_view event);
  void observe(std::string_view provider, std::string_view action, bool ok) const {
    if (observer_) observer_(provider, action, ok);
  }

  store::Database& db_;
  const core::Clock& clock_;
  ProviderFactory& providers_;
  PushConfig config_;
  std::set<std::string> opened_;  ///< calendars this round opened a channel on
  Observer observer_;
};

/// Stops every push channel on `calendars` at its provider now and forgets it: for an account (or
/// a user) about to go, whose credentials go with it (a channel left open could not be stopped
/// later; it would notify until it expires). Best effort within `deadline`: a channel the provider
/// cannot stop is forgotten anyway (it expires; its notifications find no channel). Returns how
/// many the providers stopped; `observer` (PushMaintainer::Observer) is told of each stop. Errors
/// only when the database fails. Thread-safe. (A round running meanwhile that opens a channel on
/// one of these calendars finds its row gone when it records the channel, and stops it.)
core::Result<std::size_t> stopPushChannels(store::Database& db, const core::Clock& clock, ProviderFactory& providers,
                                           const std::vector<CalendarRef>& calendars,
                                           ProviderFactory::Deadline deadline = std::nullopt,
                                           const PushMaintainer::Observer& observer = {});

}  // namespace calgate::sync
