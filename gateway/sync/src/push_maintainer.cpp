#include "calgate/sync/push_maintainer.hpp"

#include "calgate/core/ids.hpp"
#include "calgate/core/log.hpp"
#include "calgate/sync/pair_store.hpp"
#include "calgate/sync/push_channels.hpp"
#include "calgate/sync/push_inbox.hpp"

#include <map>
#include <set>

namespace calgate::sync {

namespace {

/// An "opening" row older than this belongs to a round that died: forgotten (its channel, if
/// Google opened one, expires and its notifications find no channel).
constexpr long long kOpeningTimeout = 600;

/// The Google calendars runnable pairs read.
core::Result<std::set<std::string>> watchedCalendars(store::Database& db, const core::Clock& clock) {
  auto pairs = PairStore(db, clock).listRunnable();
  if (!pairs) return std::unexpected(pairs.error());
  std::set<std::string> ids;
  for (const auto& p : *pairs) {
    ids.insert(p.sourceCalendarId);
    if (p.direction == Direction::TwoWay) ids.insert(p.targetCalendarId);
  }
  return ids;
}

}  // namespace

PushMaintainer::PushMaintainer(store::Database& db, const core::Clock& clock, ProviderFactory& providers, PushConfig config)
    : db_(db), clock_(clock), providers_(providers), config_(std::move(config)) {}

core::Result<PushRound> PushMaintainer::maintain() {
  PushRound round;
  if (config_.googleAddress.empty()) return round;
  auto ids = watchedCalendars(db_, clock_);
  if (!ids) return std::unexpected(ids.error());
  PushChannelStore store(db_, clock_);
  auto channels = store.all();
  if (!channels) return std::unexpected(channels.error());
  const long long now = clock_.nowUnixSeconds();
  const long long renewAt = now + config_.renewBefore.count();
  std::map<std::string, long long> lastingUntil;  // calendar -> the latest expiry of a channel it keeps
  for (const auto& c : *channels) {
    const bool fresh = c.active ? c.expiresAt > renewAt : c.createdAt > now - kOpeningTimeout;
    if (fresh && ids->count(c.calendarId)) lastingUntil[c.calendarId] = std::max(lastingUntil[c.calendarId], c.expiresAt);
  }
  CalendarStore calendars(db_, clock_);
  for (const auto& id : *ids) {
    if (lastingUntil.count(id)) continue;
    auto calendar = calendars.get(id);
    if (!calendar) return std::unexpected(calendar.error());
    if (calendar->provider != model::ProviderKind::Google) continue;
    auto opened = open(*calendar, round);
    if (!opened) return std::unexpected(opened.error());
    if (*opened) lastingUntil[id] = now + config_.lifetime.count();
  }
  for (const auto& c : *channels) {
    const bool kept = ids->count(c.calendarId) && (c.active ? c.expiresAt > now : c.createdAt > now - kOpeningTimeout);
    // one due for renewal goes once its successor is open; until then both deliver (the overlap)
    const bool replaced = c.active && c.expiresAt <= renewAt && lastingUntil.count(c.calendarId) &&
                          lastingUntil[c.calendarId] > c.expiresAt;
    if (kept && !replaced) continue;
    if (auto ok = stop(c, round); !ok) return std::unexpected(ok.error());
  }
  return round;
}

// Records the channel first, then asks Google; a refusal forgets it. True when it is open.
core::Result<bool> PushMaintainer::open(const CalendarRef& calendar, PushRound& round) {
  PushChannelStore store(db_, clock_);
  providers::WatchRequest request;
  request.channelId = core::newId("ch");
  request.address = config_.googleAddress;
  request.token = core::newSecret("cgpush");
  const long long until = clock_.nowUnixSeconds() + config_.lifetime.count();
  request.expiresAt = std::chrono::sys_seconds(std::chrono::seconds(until));
  if (auto ok = store.opening(request.channelId, "google", calendar.id, channelTokenHash(request.token), until); !ok) {
    return std::unexpected(ok.error());
  }
  auto refused = [&](const core::Error& e) -> core::Result<bool> {
    ++round.failed;
    round.errors.push_back(calendar.id + ": " + e.describe());
    core::log::warn("push.open_failed", {{"calendar", calendar.id}, {"error", e.describe()}});
    if (auto gone = store.remove(request.channelId); !gone) return std::unexpected(gone.error());
    return false;
  };
  auto provider = providers_.open(calendar);
  if (!provider) return refused(provider.error());
  auto watch = (*provider)->watch(calendar.providerCalendarId, request);
  if (!watch) return refused(watch.error());
  auto active = store.activate(request.channelId, watch->resourceId, watch->expiresAt.time_since_epoch().count());
  if (!active) return std::unexpected(active.error());
  ++round.opened;
  return true;
}

// Stops a channel at the provider (when it may still deliver) and forgets it. A provider that
// cannot be reached leaves the row for the next round; errors only for the database.
core::Result<void> PushMaintainer::stop(const PushChannel& channel, PushRound& round) {
  if (channel.active && channel.expiresAt > clock_.nowUnixSeconds()) {
    auto stopped = unwatch(channel);
    if (!stopped) {
      ++round.failed;
      round.errors.push_back(channel.calendarId + ": " + stopped.error().describe());
      core::log::warn("push.stop_failed", {{"channel", channel.id}, {"error", stopped.error().describe()}});
      return {};
    }
    ++round.stopped;
  } else {
    ++round.forgotten;
  }
  return PushChannelStore(db_, clock_).remove(channel.id);
}

core::Result<void> PushMaintainer::unwatch(const PushChannel& channel) {
  auto calendar = CalendarStore(db_, clock_).get(channel.calendarId);
  if (!calendar) return std::unexpected(calendar.error());
  auto provider = providers_.open(*calendar);
  if (!provider) return std::unexpected(provider.error());
  return (*provider)->unwatch({channel.id, channel.resourceId, {}});
}

}  // namespace calgate::sync
