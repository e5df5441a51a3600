#pragma once
/// The Microsoft Graph v1.0 adapter (CONTRACT.md §2), on OAuth access tokens (delegated,
/// Calendars.ReadWrite):
/// - calendars: /me/calendars; writable = canEdit;
/// - pulls: per calendar, calendarView/delta over the pair window, every page asked with
///   Prefer: odata.maxpagesize, outlook.timezone="UTC" and IdType="ImmutableId" (ids survive moves),
///   @odata.nextLink followed verbatim to the @odata.deltaLink, which is the cursor (with the
///   window it was made for: a moved window starts a new complete round, complete only within the
///   window so nothing that merely aged is taken for deleted). Replays and duplicates collapse to
///   the last version of each id; "@removed" items (deleted, or moved out of the window) are
///   removals. 410 Gone (its Location) and syncStateNotFound / resyncRequired start a complete
///   round again. Links are followed only below the configured API root (the bearer token never
///   goes elsewhere). Series arrive as their occurrences and exceptions within the window, each an
///   event of its own (the product page: "series masters expanded server-side"), except calgate's
///   own series copies: their occurrences are replaced by the master (read once per round with its
///   origin marker, so the engine finds the copy under the id it wrote, with the master's ETag,
///   which any change to an occurrence changes); which masters are calgate's is remembered in the
///   cursor, and a removed own master is a removal;
/// - writes: single events and series. A create first looks for the copy by its origin marker (a
///   singleValueExtendedProperty; a crash between write and record never duplicates): the first
///   eight creates of a pair's calendar in an adapter with a lookup each, then through one listing
///   of the pair's copies (by a second property holding the pair id) that the adapter keeps up to
///   date with its own creates, a copy found there read once more before it is trusted; it posts
///   with a transactionId derived from the copy's UID (a retried POST never duplicates); updates are
///   PATCH with If-Match (412 -> re-read, retry once); deletes with If-Match, 404 = done. Zones
///   are written as Windows names where one corresponds (ICU), else as the instant in UTC. A
///   series is written with the patternedRecurrence that has exactly its RRULE's occurrences
///   (graph_recurrence.hpp; holdsSeries says which, so the engine copies any other series as
///   its occurrences; written anyway, it is refused: Invalid, cause WriteRefused, with the
///   reason), its EXDATEs as DELETEs of those instances; an occurrence (a write with a recurrence
///   id, on the series copy's id) as a PATCH (exception) or DELETE (cancellation) of the instance
///   with that original start, found through the master's instances; every write to a series
///   answers the master's id and ETag. writeBatch sends up to `batchSize` single-event writes as
///   one $batch (series and occurrences go on their own);
/// - limits: at most `maxConcurrent` requests at once (Outlook's 4 per mailbox), in this adapter
///   and, with `slots`, in every adapter of the mailbox (across processes with the database's);
///   429/503 and other 5xx are retried in the call up to `maxAttempts`, waiting the Retry-After
///   (seconds, fractional allowed) when it is at most `maxRetryAfterWait`, else exponential backoff
///   with full jitter; then RateLimited/Unavailable with a Retry-After for the job queue. A 401
///   drops the access token and retries once with a new one.
/// Thread-safe for concurrent calls on different calendars.

#include "calgate/core/clock.hpp"
#include "calgate/providers/http/access_tokens.hpp"
#include "calgate/providers/http/http_client.hpp"
#include "calgate/providers/http/request_slots.hpp"
#include "calgate/providers/provider.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace calgate::providers::microsoft {

/// Where the API is: configuration, not a constant of the adapter (tests point it at the contract fake).
struct GraphEndpoints {
  std::string apiRoot = "https://graph.microsoft.com/";  ///< the version segment v1.0/ follows
};

struct GraphOptions {
  int pageSize = 100;                    ///< Prefer: odata.maxpagesize
  int maxPages = 2000;                   ///< pages of one delta round before it is refused
  std::size_t maxPullEvents = 20000;     ///< items of one pull (BudgetExceeded beyond)
  std::size_t maxPullBytes = 64 * 1024 * 1024;
  int maxAttempts = 4;                   ///< tries of one request on throttling and 5xx
  std::chrono::milliseconds backoffBase{500};
  std::chrono::milliseconds maxBackoff{4000};
  std::chrono::seconds maxRetryAfterWait{30};  ///< a longer Retry-After goes back to the job queue
  int maxConcurrent = 4;                 ///< requests in flight at once (per adapter, and per slotKey)
  /// Where the mailbox's requests in flight are counted with every other adapter of it (the
  /// process's localSlots, or the database's slots shared by every calgate process); null: this
  /// adapter alone counts.
  std::shared_ptr<RequestSlots> slots;
  std::string slotKey;                   ///< the mailbox's key there ("graph:<account id>")
  std::chrono::milliseconds slotWait{60000};  ///< longest wait for a slot before Unavailable
  /// Writes sent together in one JSON $batch (Graph's limit: 20). 1 turns batching off.
  std::size_t batchSize = 20;
  /// Waits between retries; tests record instead of sleeping.
  std::function<void(std::chrono::milliseconds)> sleep;
};

class GraphProvider final : public Provider {
 public:
  GraphProvider(HttpClient& http, AccessTokens& tokens, const core::Clock& clock, GraphEndpoints endpoints = {},
                GraphOptions options = {});
  ~GraphProvider() override;
  GraphProvider(const GraphProvider&) = delete;
  GraphProvider& operator=(const GraphProvider&) = delete;

  model::ProviderKind kind() const override { return model::ProviderKind::Microsoft; }
  core::Result<std::vector<CalendarInfo>> listCalendars() override;
  core::Result<ChangeSet> pullChanges(const std::string& calendarId, const std::string& cursor,
                                      const TimeWindow& window, const KnownVersions& known = {}) override;
  core::Result<std::vector<model::Event>> getEvent(const std::string& calendarId, const std::string& eventId) override;
  core::Result<WriteResult> create(const std::string& calendarId, const policy::ApprovedWrite& write) override;
  core::Result<WriteResult> update(const std::string& calendarId, const std::string& eventId, const std::string& etag,
                                   const policy::ApprovedWrite& write) override;
  core::Result<void> remove(const std::string& calendarId, const std::string& eventId, const std::string& etag,
                            const policy::ApprovedWrite& write) override;

  /// Single events created, updated (PATCH with If-Match) or deleted as the requests of one JSON
  /// $batch, their creates found first through the pair's copy listing; a request that is not a
  /// plain success (412, 429, 424, a 5xx) is then done on its own exactly as create/update/remove
  /// do it.
  bool holdsSeries(const std::string& calendarId, const policy::ApprovedWrite& write) override;
  /// A change-notification subscription on the calendar's events (created, updated, deleted) with
  /// the request's token as clientState and its lifecycle URL; Graph validates both URLs before it
  /// answers. renewWatch PATCHes the expiry, reauthorizeWatch answers reauthorizationRequired,
  /// unwatch DELETEs it (404: done).
  core::Result<Watch> watch(const std::string& calendarId, const WatchRequest& request) override;
  core::Result<Watch> renewWatch(const Watch& watch, std::chrono::sys_seconds expiresAt) override;
  core::Result<void> reauthorizeWatch(const Watch& watch) override;
  core::Result<void> unwatch(const Watch& watch) override;
  std::size_t batchLimit() const override;
  core::Result<BatchResults> writeBatch(const std::string& calendarId, const std::vector<BatchedWrite>& writes) override;

  /// Requests sent so far, retries included (benchmarks and tests).
  std::size_t requestCount() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace calgate::providers::microsoft
