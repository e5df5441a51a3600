#pragma once
/// The interface every provider adapter implements (CalDAV now; Google and Microsoft Graph fit
/// the same shape). Writes take only a policy::ApprovedWrite: nothing reaches a provider without
/// the evaluator's approval. Implementations refuse an ApprovedWrite made for another provider.

#include "calgate/core/error.hpp"
#include "calgate/model/event.hpp"
#include "calgate/policy/approved_write.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace calgate::providers {

struct CalendarInfo {
  std::string id;  ///< stable id: Google calendarId, Graph id, CalDAV collection URL
  std::string displayName;
  std::string timeZone;  ///< IANA, if the provider says
  bool writable = true;
  std::string changeTag;  ///< CTag or equivalent, if any
};

struct TimeWindow {
  std::chrono::sys_seconds from;
  std::chrono::sys_seconds to;
  /// [now - pastDays, now + futureDays): the window of a pair or a feed.
  static TimeWindow around(std::chrono::sys_seconds now, int pastDays, int futureDays) {
    return {now - std::chrono::days(pastDays), now + std::chrono::days(futureDays)};
  }
};

/// A resource the adapter read (or tried to) but cannot take, and why in words a user can act on
/// ("a calendar resource holds more than one UID", "the server refused to return it (HTTP 403)").
struct SkippedResource {
  std::string id;
  std::string etag;    ///< as listed ("" when unknown): a new version is reported again
  std::string reason;
};

/// An adapter may read one resource as several events (a CalDAV series split at a THISANDFUTURE
/// change): their ids are "<resource id>#<part>". A listing of the resource lists all its parts
/// (a part not listed with it is gone); a removal or an unreadable resource covers them all.
inline std::string_view resourceIdOf(std::string_view eventId) { return eventId.substr(0, eventId.find('#')); }

/// Whether two ETags name the same version: servers quote them or not, and mark them weak ("W/")
/// in one answer and not in another (a PUT's ETag header and the same resource's getetag).
inline bool sameEtag(std::string_view a, std::string_view b) {
  auto bare = [](std::string_view e) {
    if (e.size() >= 2 && (e[0] == 'W' || e[0] == 'w') && e[1] == '/') e.remove_prefix(2);
    if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
    return e;
  };
  return bare(a) == bare(b);
}

/// Versions of resources the caller already holds, by resource id: its own copies' ETags as it
/// recorded them after writing (so a listing that shows a copy unchanged since calgate wrote it
/// need not read it back). Keys are resource ids (resourceIdOf).
using KnownVersions = std::unordered_map<std::string, std::string>;

/// A resource a listing showed at a version the caller said it knows (KnownVersions): not read.
struct ListedVersion {
  std::string id;
  std::string etag;
};

/// What changed in a calendar since a cursor.
struct ChangeSet {
  /// New or changed events. A series comes as its master followed by its overrides, all with the
  /// same id (and recurrenceId set on the overrides). Each carries id and etag.
  std::vector<model::Event> changed;
  std::vector<std::string> removed;  ///< ids gone since the cursor
  /// Ids that exist but could not be read (malformed data): never to be taken for deletions.
  std::vector<std::string> unreadable;
  /// Of those, the ones the user should hear about, with the reason (every id here is also in
  /// `unreadable`).
  std::vector<SkippedResource> skipped;
  /// Listed, new or changed since the cursor (or, in a complete listing, present), at exactly the
  /// version the caller passed in KnownVersions: not read, so not in `changed`. Such a resource
  /// exists as the caller last wrote it.
  std::vector<ListedVersion> unchanged;
  std::string cursor;                ///< pass to the next pull
  /// True when this is a complete listing (initial or after a cursor reset): an id not listed no
  /// longer exists. Deletions may only be inferred from complete listings.
  bool complete = false;
  /// When set, completeness holds only for events overlapping this window (a listing by time
  /// range, e.g. CalDAV without sync-collection): an id not listed whose event lies outside the
  /// window may still exist.
  std::optional<TimeWindow> completeWithin;
};

/// For an adapter whose listing carries the events themselves: moves the resources listed at the
/// version `known` names (every event of the resource at that ETag) from `changes.changed` to
/// `changes.unchanged`, so callers treat every adapter alike.
inline void setAsideKnown(ChangeSet& changes, const KnownVersions& known) {
  if (known.empty()) return;
  std::unordered_map<std::string, bool> same;  // resource id -> every listed event at the known ETag
  for (const auto& e : changes.changed) {
    auto it = known.find(e.id);
    const bool match = it != known.end() && sameEtag(it->second, e.etag);
    auto [at, fresh] = same.try_emplace(e.id, match);
    if (!fresh) at->second = at->second && match;
  }
  std::vector<model::Event> kept;
  kept.reserve(changes.changed.size());
  for (auto& e : changes.changed) {
    auto it = same.find(e.id);
    if (it == same.end()) continue;  // a resource already set aside: its other events go with it
    if (!it->second) {
      kept.push_back(std::move(e));
      continue;
    }
    changes.unchanged.push_back({e.id, e.etag});
    same.erase(it);
  }
  changes.changed = std::move(kept);
}

struct WriteResult {
  std::string id;
  std::string etag;
  /// A create found the copy already there (a retry after a crash between "written" and
  /// "recorded"): its content may be older than this write, so the caller updates it.
  bool existed = false;
};

/// One write of a batch (Provider::writeBatch): what create, update or remove would be called with.
struct BatchedWrite {
  enum class Op { Create, Update, Remove };
  Op op = Op::Create;
  std::string eventId;  ///< the copy updated or removed ("" for a create)
  std::string etag;     ///< the copy's ETag as last recorded
  const policy::ApprovedWrite* write = nullptr;  ///< never null; must outlive the call
};

/// Asking for push notifications on one calendar: a Google events.watch channel, a Graph
/// subscription.
struct WatchRequest {
  std::string channelId;  ///< calgate's id for the channel: unique, 1-64 of [A-Za-z0-9_-]
  std::string address;    ///< the HTTPS URL the provider posts notifications to
  /// Sent back with every notification (Google: X-Goog-Channel-Token; Graph: clientState, at most
  /// 128 characters).
  std::string token;
  std::chrono::sys_seconds expiresAt{};  ///< the lifetime asked for; the provider may shorten it
  /// Where the provider posts events about the channel itself (Graph's lifecycle notifications:
  /// reauthorizationRequired, subscriptionRemoved, missed); "" for none or a provider without them.
  std::string lifecycleAddress{};
};

/// A push channel as the provider opened it.
struct Watch {
  std::string channelId;
  std::string resourceId;  ///< the provider's id of what is watched (Google: X-Goog-Resource-ID)
  std::chrono::sys_seconds expiresAt{};  ///< as granted
};

/// writeBatch's answer: one result per write, in order (a remove's WriteResult carries its id).
using BatchResults = std::vector<core::Result<WriteResult>>;

/// Whether a write's error is about the server or the account rather than the one write: further
/// writes would meet it too.
inline bool notAboutOneWrite(const core::Error& e) {
  using core::ErrorCode;
  return e.code == ErrorCode::Unavailable || e.code == ErrorCode::Timeout || e.code == ErrorCode::RateLimited ||
         e.code == ErrorCode::Unauthorized || e.cause == core::Cause::BudgetExceeded;
}

class Provider {
 public:
  virtual ~Provider() = default;
  virtual model::ProviderKind kind() const = 0;

  /// The account's calendars that hold events.
  virtual core::Result<std::vector<CalendarInfo>> listCalendars() = 0;

  /// Changes since `cursor` (empty: everything). An expired cursor makes the adapter start over
  /// and return a complete listing. `window` bounds listings where the protocol needs one.
  /// `known`: resources the caller holds at a version; an adapter whose listing names versions
  /// before it reads content (CalDAV) reports a resource listed at its known version in
  /// ChangeSet::unchanged instead of reading it. One whose listing carries the content anyway
  /// (Google, Graph) may ignore it: nothing is read twice there.
  virtual core::Result<ChangeSet> pullChanges(const std::string& calendarId, const std::string& cursor,
                                              const TimeWindow& window, const KnownVersions& known = {}) = 0;

  /// One event (a series: master and overrides). NotFound when gone.
  virtual core::Result<std::vector<model::Event>> getEvent(const std::string& calendarId, const std::string& eventId) = 0;

  /// Creates the approved copy. Idempotent: creating the same copy twice (a retry after a crash)
  /// returns the existing one instead of a duplicate.
  virtual core::Result<WriteResult> create(const std::string& calendarId, const policy::ApprovedWrite& write) = 0;

  /// Updates a copy if it still has `etag`; on a concurrent change, re-reads and retries once.
  virtual core::Result<WriteResult> update(const std::string& calendarId, const std::string& eventId,
                                           const std::string& etag, const policy::ApprovedWrite& write) = 0;

  /// Removes a copy (or one occurrence of it, when the write has a recurrenceId). Removing what is
  /// already gone succeeds.
  virtual core::Result<void> remove(const std::string& calendarId, const std::string& eventId,
                                    const std::string& etag, const policy::ApprovedWrite& write) = 0;

  /// Whether bringing copy `copyId` up to `write` needs a new copy: the provider cannot change it
  /// into what `write` is in place (Google: an event's type is fixed once created, so a copy that
  /// turns out-of-office is another event). The engine then removes the copy and creates a new one,
  /// each recorded on its own (crash-safe like any rebuilt copy). May read the calendar's settings
  /// once (cached); false when it cannot tell. The default: never.
  virtual bool replacesOnUpdate(const std::string& calendarId, const std::string& copyId, const policy::ApprovedWrite& write) {
    (void)calendarId, (void)copyId, (void)write;
    return false;
  }

  /// Whether the target can hold `write`, a series, as a series with exactly its occurrences
  /// (Outlook has no pattern for a monthly day 31, RDATEs, several RRULEs…). When it cannot, the
  /// engine copies the series' occurrences inside the pair's window as events of their own
  /// instead of a rule that is almost the same. Pure (no I/O); true for anything but a series. The
  /// default: every series.
  virtual bool holdsSeries(const std::string& calendarId, const policy::ApprovedWrite& write) {
    (void)calendarId, (void)write;
    return true;
  }

  /// Opens a push channel on the calendar: the provider posts to `request.address` when its
  /// events change (and may also before this returns). Unavailable when the adapter has no push
  /// (the default); Invalid for a request the provider refuses or an answer it cannot vouch for.
  virtual core::Result<Watch> watch(const std::string& calendarId, const WatchRequest& request) {
    (void)calendarId, (void)request;
    return core::fail(core::ErrorCode::Unavailable, "this provider sends no push notifications");
  }
  /// Extends a channel's life to `expiresAt` (the answer's expiry is the one granted). Unavailable
  /// where the provider has no renewal (Google: a channel is replaced by a new one): the default.
  virtual core::Result<Watch> renewWatch(const Watch& watch, std::chrono::sys_seconds expiresAt) {
    (void)watch, (void)expiresAt;
    return core::fail(core::ErrorCode::Unavailable, "this provider renews a channel by opening a new one");
  }
  /// Answers the provider's demand to authorise the channel again (Graph's reauthorizationRequired).
  /// Unavailable where there is no such thing: the default.
  virtual core::Result<void> reauthorizeWatch(const Watch& watch) {
    (void)watch;
    return core::fail(core::ErrorCode::Unavailable, "this provider does not reauthorize channels");
  }
  /// Closes a channel watch() opened; one the provider no longer knows (expired, stopped) is done.
  virtual core::Result<void> unwatch(const Watch& watch) {
    (void)watch;
    return core::fail(core::ErrorCode::Unavailable, "this provider sends no push notifications");
  }

  /// How many writes writeBatch() sends together. 1 (the default): the adapter has no batching,
  /// and callers write one at a time.
  virtual std::size_t batchLimit() const { return 1; }

  /// Several writes to one calendar, each with exactly the contract of create/update/remove, sent
  /// together where the protocol allows (fewer requests against the provider's per-request
  /// limits). One result per write, in order; writes fail independently. The call as a whole fails
  /// only when the batch could not be sent or its answer not read (transport, authorisation, a
  /// malformed answer): any of the writes may then have happened, which their idempotence makes
  /// safe to repeat. After a failure that is not about its own write (the server is down, the
  /// account's rate or authorisation) the remaining writes are not attempted and carry the same
  /// error. This default writes them one after the other.
  virtual core::Result<BatchResults> writeBatch(const std::string& calendarId, const std::vector<BatchedWrite>& writes) {
    BatchResults out;
    out.reserve(writes.size());
    for (const auto& w : writes) {
      if (!out.empty() && !out.back() && notAboutOneWrite(out.back().error())) {
        out.push_back(std::unexpected(out.back().error()));
        continue;
      }
      switch (w.op) {
        case BatchedWrite::Op::Create: out.push_back(create(calendarId, *w.write)); break;
        case BatchedWrite::Op::Update: out.push_back(update(calendarId, w.eventId, w.etag, *w.write)); break;
        case BatchedWrite::Op::Remove: {
          auto done = remove(calendarId, w.eventId, w.etag, *w.write);
          out.push_back(done ? core::Result<WriteResult>(WriteResult{w.eventId, "", false})
                             : core::Result<WriteResult>(std::unexpected(done.error())));
          break;
        }
      }
    }
    return out;
  }

 protected:
  /// For an adapter's writeBatch: the writes not `done` by its batch (a part that failed, one it
  /// does not batch), written by the default writeBatch, their results put in `out` at their places.
  core::Result<void> writeRemaining(const std::string& calendarId, const std::vector<BatchedWrite>& writes,
                                    const std::vector<bool>& done, BatchResults& out) {
    std::vector<BatchedWrite> rest;
    for (std::size_t i = 0; i < writes.size(); ++i) {
      if (!done[i]) rest.push_back(writes[i]);
    }
    if (rest.empty()) return {};
    auto singles = Provider::writeBatch(calendarId, rest);
    if (!singles) return std::unexpected(singles.error());
    for (std::size_t i = 0, k = 0; i < writes.size(); ++i) {
      if (!done[i]) out[i] = std::move((*singles)[k++]);
    }
    return {};
  }

 public:
};

}  // namespace calgate::providers
