#include "calgate/sync/push_maintainer.hpp"

#include "calgate/core/ids.hpp"
#include "calgate/core/log.hpp"
#include "calgate/sync/job_queue.hpp"
#include "calgate/sync/pair_store.hpp"
#include "calgate/sync/push_inbox.hpp"

namespace calgate::sync {

namespace {

/// An "opening" row older than this belongs to a round that died: forgotten (its channel, if the
/// provider opened one, expires and its notifications find no channel).
constexpr long long kOpeningTimeout = 600;
/// How long a round may hold the upkeep lease (a round that died lets go after it).
constexpr long long kUpkeepLease = 3600;

/// The calendars runnable pairs read.
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

std::chrono::sys_seconds at(long long unix) { return std::chrono::sys_seconds(std::chrono::seconds(unix)); }

}  // namespace

PushMaintainer::PushMaintainer(store::Database& db, const core::Clock& clock, ProviderFactory& providers, PushConfig config)
    : db_(db), clock_(clock), providers_(providers), config_(std::move(config)) {}

core::Result<PushRound> PushMaintainer::maintain() {
  PushRound round;
  if (config_.baseUrl.empty()) return round;
  PushChannelStore store(db_, clock_);
  // one round at a time across every process: two would open a channel each for one calendar
  const std::string holder = core::newId("upkeep");
  auto taken = store.takeUpkeep(holder, clock_.nowUnixSeconds() + kUpkeepLease);
  if (!taken) return std::unexpected(taken.error());
  if (!*taken) {
    round.busy = true;
    return round;
  }
  auto result = run(round);
  if (auto released = store.releaseUpkeep(holder); !released && result) return std::unexpected(released.error());
  if (!result) return std::unexpected(result.error());
  return round;
}

core::Result<void> PushMaintainer::run(PushRound& round) {
  opened_.clear();
  auto watched = watchedCalendars(db_, clock_);
  if (!watched) return std::unexpected(watched.error());
  auto channels = PushChannelStore(db_, clock_).all();
  if (!channels) return std::unexpected(channels.error());
  std::set<std::string> covered;  // calendars with a channel that serves on
  for (const auto& c : *channels) {
    if (keeps(c, *watched)) covered.insert(c.calendarId);
  }
  if (auto ok = openMissing(*watched, covered, round); !ok) return ok;
  // the channel each calendar keeps: its live one that lasts longest (another is a spare, or one
  // a successor replaces)
  std::map<std::string, const PushChannel*> best;
  for (const auto& c : *channels) {
    if (!c.active || c.expiresAt <= clock_.nowUnixSeconds()) continue;
    auto& b = best[c.calendarId];
    if (!b || c.expiresAt > b->expiresAt || (c.expiresAt == b->expiresAt && c.id > b->id)) b = &c;
  }
  for (const auto& c : *channels) {
    const auto it = best.find(c.calendarId);
    const bool spare = c.active && it != best.end() && it->second != &c;
    // a calendar this round opened a channel on had none it keeps: its old one (due) makes way
    if (auto ok = tend(c, *watched, spare || (c.active && opened_.count(c.calendarId) > 0), round); !ok) return ok;
  }
  return {};
}

// Whether a channel serves its calendar on: live and not due for replacement (a Graph
// subscription due for renewal is renewed, not replaced), or being opened right now.
bool PushMaintainer::keeps(const PushChannel& c, const std::set<std::string>& watched) const {
  const long long now = clock_.nowUnixSeconds();
  if (!watched.count(c.calendarId)) return false;
  if (!c.active) return c.createdAt > now - kOpeningTimeout;
  return c.expiresAt > now + config_.renewBefore.count() || (c.provider == "microsoft" && c.expiresAt > now);
}

core::Result<void> PushMaintainer::openMissing(const std::set<std::string>& watched, const std::set<std::string>& covered,
                                               PushRound& round) {
  CalendarStore calendars(db_, clock_);
  auto refusals = PushChannelStore(db_, clock_).refusals();
  if (!refusals) return std::unexpected(refusals.error());
  std::set<std::string> waiting;  // a provider refused them: asked again only when their wait is over
  for (const auto& r : *refusals) {
    if (r.retryAt > clock_.nowUnixSeconds()) waiting.insert(r.calendarId);
  }
  for (const auto& id : watched) {
    if (covered.count(id) || waiting.count(id)) continue;
    auto calendar = calendars.get(id);
    if (!calendar) return std::unexpected(calendar.error());
    if (calendar->provider != model::ProviderKind::Google && calendar->provider != model::ProviderKind::Microsoft) continue;
    auto opened = open(*calendar, round);
    if (!opened) return std::unexpected(opened.error());
    if (*opened) opened_.insert(id);
  }
  return {};
}

// Records the channel first, then asks the provider; a refusal forgets it. True when it is open.
core::Result<bool> PushMaintainer::open(const CalendarRef& calendar, PushRound& round) {
  const bool google = calendar.provider == model::ProviderKind::Google;
  PushChannelStore store(db_, clock_);
  providers::WatchRequest request;
  request.channelId = core::newId("ch");
  request.address = config_.baseUrl + (google ? "/webhooks/google" : "/webhooks/microsoft");
  if (!google) request.lifecycleAddress = config_.baseUrl + "/webhooks/microsoft/lifecycle";
  request.token = core::newSecret("cgpush");
  const long long until = clock_.nowUnixSeconds() + (google ? config_.googleLifetime : config_.microsoftLifetime).count();
  request.expiresAt = at(until);
  const std::string provider = google ? "google" : "microsoft";
  if (auto ok = store.opening(request.channelId, provider, calendar.id, channelTokenHash(request.token), until); !ok) {
    return std::unexpected(ok.error());
  }
  auto adapter = providers_.open(calendar);
  auto watch = adapter ? (*adapter)->watch(calendar.providerCalendarId, request) : core::Result<providers::Watch>(std::unexpected(adapter.error()));
  observe(provider, "open", watch.has_value());
  if (!watch) {
    failed(round, calendar.id, watch.error(), "push.open_failed");
    if (auto gone = store.remove(request.channelId); !gone) return std::unexpected(gone.error());
    if (auto noted = store.refused(calendar.id, watch.error().describe()); !noted) return std::unexpected(noted.error());
    return false;
  }
  auto active = store.activate(request.channelId, watch->resourceId, watch->expiresAt.time_since_epoch().count());
  if (!active && active.error().code == core::ErrorCode::NotFound) {
    // its row went meanwhile (the calendar was removed): the channel just opened must not linger
    (void)(*adapter)->unwatch(*watch);
    return false;
  }
  if (!active) return std::unexpected(active.error());
  if (auto cleared = store.clearRefusal(calendar.id); !cleared) return std::unexpected(cleared.error());
  ++round.opened;
  return true;
}

// A recorded channel: stopped when nothing needs it or another channel of its calendar lasts
// longer (a Google channel's successor, a spare), renewed or reauthorized (Graph).
core::Result<void> PushMaintainer::tend(const PushChannel& c, const std::set<std::string>& watched, bool superseded,
                                        PushRound& round) {
  const long long now = clock_.nowUnixSeconds();
  const bool live = c.active ? c.expiresAt > now : c.createdAt > now - kOpeningTimeout;
  if (!watched.count(c.calendarId) || !live) return stop(c, round);
  if (!c.active) return {};
  const bool due = c.expiresAt <= now + config_.renewBefore.count();
  if (superseded) return stop(c, round);
  if (c.provider != "microsoft") return {};
  if (c.reauthorize) {
    auto adapter = adapterOf(c.calendarId);
    auto done = adapter ? (*adapter)->reauthorizeWatch({c.id, c.resourceId, at(c.expiresAt)})
                        : core::Result<void>(std::unexpected(adapter.error()));
    observe(c.provider, "reauthorize", done.has_value());
    if (!done) {
      failed(round, c.calendarId, done.error(), "push.reauthorize_failed");
      if (auto ok = pollNow(c.calendarId); !ok) return ok;
    } else {
      ++round.reauthorized;
      if (auto ok = PushChannelStore(db_, clock_).setReauthorize(c.id, false); !ok) return ok;
    }
  }
  return due ? renew(c, round) : core::Result<void>{};
}

// PATCHes a Graph subscription's expiry; one Graph no longer has is forgotten (the next round
// opens a new one).
core::Result<void> PushMaintainer::renew(const PushChannel& c, PushRound& round) {
  PushChannelStore store(db_, clock_);
  auto adapter = adapterOf(c.calendarId);
  const auto until = at(clock_.nowUnixSeconds() + config_.microsoftLifetime.count());
  auto renewed = adapter ? (*adapter)->renewWatch({c.id, c.resourceId, at(c.expiresAt)}, until)
                         : core::Result<providers::Watch>(std::unexpected(adapter.error()));
  observe(c.provider, "renew", renewed.has_value());
  if (!renewed) {
    failed(round, c.calendarId, renewed.error(), "push.renew_failed");
    if (auto ok = pollNow(c.calendarId); !ok) return ok;
    if (renewed.error().code == core::ErrorCode::NotFound) {
      ++round.forgotten;
      return store.remove(c.id);
    }
    return {};
  }
  ++round.renewed;
  return store.renewed(c.id, renewed->expiresAt.time_since_epoch().count());
}

// Stops a channel at the provider (when it may still deliver) and forgets it. A provider that
// cannot be reached leaves the row for the next round; errors only for the database.
core::Result<void> PushMaintainer::stop(const PushChannel& channel, PushRound& round) {
  if (channel.active && channel.expiresAt > clock_.nowUnixSeconds()) {
    auto adapter = adapterOf(channel.calendarId);
    auto stopped = adapter ? (*adapter)->unwatch({channel.id, channel.resourceId, at(channel.expiresAt)})
                           : core::Result<void>(std::unexpected(adapter.error()));
    observe(channel.provider, "stop", stopped.has_value());
    if (!stopped) {
      failed(round, channel.calendarId, stopped.error(), "push.stop_failed");
      return {};
    }
    ++round.stopped;
  } else {
    ++round.forgotten;
  }
  return PushChannelStore(db_, clock_).remove(channel.id);
}

// A channel whose renewal failed may have stopped notifying already: the pairs reading its
// calendar are synced now (coalesced with a sync already queued), not only at the safety poll.
core::Result<void> PushMaintainer::pollNow(const std::string& calendarId) {
  auto pairs = PairStore(db_, clock_).listRunnableReading(calendarId);
  if (!pairs) return std::unexpected(pairs.error());
  JobQueue queue(db_, clock_);
  for (const auto& p : *pairs) {
    if (auto queued = queue.enqueue("sync_pair", p.id, "sync:" + p.id); !queued) return std::unexpected(queued.error());
  }
  return {};
}

core::Result<std::unique_ptr<providers::Provider>> PushMaintainer::adapterOf(const std::string& calendarId) {
  auto calendar = CalendarStore(db_, clock_).get(calendarId);
  if (!calendar) return std::unexpected(calendar.error());
  return providers_.open(*calendar);
}

core::Result<std::size_t> stopPushChannels(store::Database& db, const core::Clock& clock, ProviderFactory& providers,
                                           const std::vector<CalendarRef>& calendars, ProviderFactory::Deadline deadline,
                                           const PushMaintainer::Observer& observer) {
  PushChannelStore store(db, clock);
  std::size_t stopped = 0;
  for (const auto& calendar : calendars) {
    auto channels = store.onCalendar(calendar.id);
    if (!channels) return std::unexpected(channels.error());
    for (const auto& c : *channels) {
      if (c.active && c.expiresAt > clock.nowUnixSeconds()) {
        auto adapter = providers.open(calendar, deadline);
        auto done = adapter ? (*adapter)->unwatch({c.id, c.resourceId, at(c.expiresAt)})
                            : core::Result<void>(std::unexpected(adapter.error()));
        if (observer) observer(c.provider, "stop", done.has_value());
        if (done) ++stopped;
        else core::log::warn("push.stop_failed", {{"calendar", calendar.id}, {"error", done.error().describe()}});
      }
      if (auto gone = store.remove(c.id); !gone) return std::unexpected(gone.error());
    }
  }
  return stopped;
}

void PushMaintainer::failed(PushRound& round, const std::string& calendarId, const core::Error& error, std::string_view event) {
  ++round.failed;
  round.errors.push_back(calendarId + ": " + error.describe());
  core::log::warn(event, {{"calendar", calendarId}, {"error", error.describe()}});
}

}  // namespace calgate::sync
