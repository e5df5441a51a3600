#pragma once
/// The Google Calendar API v3 adapter (CONTRACT.md §1), on OAuth access tokens:
/// - calendars: calendarList (read-only list scope); writable = accessRole owner or writer;
/// - pulls: a full listing bounded by the window (timeMin/timeMax, showDeleted so cancelled
///   occurrences always come), then incremental rounds with the sync token, every page asked
///   with the same query; short and empty pages continue while nextPageToken is present, and a
///   round ends only with nextSyncToken. 410 (fullSyncRequired, updatedMinTooLongAgo) and 400
///   about the sync token start a complete listing again. A series comes as its master followed by
///   its changed occurrences (id = the series id, recurrenceId = originalStartTime); cancelled
///   occurrences become EXDATE lines of the master; a changed occurrence in an incremental round
///   re-reads its series (events.get + events.list?iCalUID). Birthdays and working locations are
///   not copied (wire.hpp);
/// - writes: the copy's id is derived from its UID (eventIdFor), so an insert retried after a crash
///   meets 409 duplicate and reads the existing copy instead of making a second; updates are PATCH
///   with If-Match (a user's reminders or colour on the copy survive; 412 -> re-read, retry once);
///   deletes with If-Match, 404/410 = done; an occurrence is written through its instance id
///   (events.instances?originalStart); sendUpdates=none always; the origin marker goes to
///   extendedProperties.private. A timed single event shown as out of office is copied as an
///   out-of-office event (id + "oo") where the calendar takes status events (`statusEvents`, the
///   primary calendar); a copy that must change type is replaced (replacesOnUpdate);
/// - push: events.watch channels (watch) and channels.stop (unwatch);
/// - batches: plain writes go `batchSize` at a time as the parts of one batch request (writeBatch);
/// - pacing: at most `requestsPerMinute` requests in any minute, a batch's parts each counted,
///   across every adapter of the account that shares its `pacer` (it waits for room);
/// - limits: 403/429 rateLimitExceeded/userRateLimitExceeded and 5xx are retried in the call up to
///   `maxAttempts` with exponential backoff and full jitter (at most `maxBackoff` each, through the
///   `sleep` seam), then returned as RateLimited/Unavailable with a Retry-After for the job queue;
///   403 quotaExceeded/dailyLimitExceeded is RateLimited (cause QuotaExceeded) with a long
///   Retry-After and no in-call retry. A 401 drops the access token and retries once with a new one.
/// Thread-safe for concurrent calls on different calendars.

#include "calgate/core/clock.hpp"
#include "calgate/providers/http/http_client.hpp"
#include "calgate/providers/http/access_tokens.hpp"
#include "calgate/providers/http/request_pacer.hpp"
#include "calgate/providers/provider.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace calgate::providers::google {

/// Where the API is: configuration, not a constant of the adapter (tests point it at the contract fake).
struct GoogleEndpoints {
  std::string apiRoot = "https://www.googleapis.com/";  ///< discovery rootUrl; servicePath calendar/v3/
};

/// The account's OAuth access tokens (providers/http/access_tokens.hpp).
using AccessTokens = providers::AccessTokens;

struct GoogleOptions {
  int pageSize = 2500;                   ///< maxResults of a listing page (Google's maximum)
  int maxPages = 2000;                   ///< pages of one listing round before it is refused
  std::size_t maxPullEvents = 20000;     ///< items of one pull (BudgetExceeded beyond)
  std::size_t maxPullBytes = 64 * 1024 * 1024;
  int maxAttempts = 4;                   ///< tries of one request on rate limits and 5xx
  std::chrono::milliseconds backoffBase{500};
  std::chrono::milliseconds maxBackoff{4000};
  std::chrono::seconds quotaRetryAfter{3600};  ///< Retry-After for a spent daily quota
  /// Requests this adapter sends in any 60 s (a sliding window; 0: no pacing). Below Google's
  /// per-user rate, so a first sync of thousands of events waits instead of meeting
  /// userRateLimitExceeded. Waits go through `sleep`; time is read from the adapter's clock.
  int requestsPerMinute = 300;
  /// The account's pacer, shared with its other adapters (providers::sharedPacer); when unset the
  /// adapter paces alone with `requestsPerMinute`.
  std::shared_ptr<RequestPacer> pacer;
  /// Writes sent together in one batch request (batch/calendar/v3, multipart/mixed; Google takes
  /// up to 1000 parts and advises smaller batches). 1 turns batching off.
  std::size_t batchSize = 50;
  /// The account may hold status events (a Google Workspace account: Google offers them to
  /// Workspace users only): a copy of an out-of-office event in its primary calendar is written
  /// as one (eventType outOfOffice). Otherwise, or when Google refuses one, copies are ordinary
  /// busy events.
  bool statusEvents = false;
  /// Waits between retries; tests record instead of sleeping.
  std::function<void(std::chrono::milliseconds)> sleep;
};

class GoogleProvider final : public Provider {
 public:
  GoogleProvider(HttpClient& http, AccessTokens& tokens, const core::Clock& clock, GoogleEndpoints endpoints = {},
                 GoogleOptions options = {});
  ~GoogleProvider() override;
  GoogleProvider(const GoogleProvider&) = delete;
  GoogleProvider& operator=(const GoogleProvider&) = delete;

  model::ProviderKind kind() const override { return model::ProviderKind::Google; }
  core::Result<std::vector<CalendarInfo>> listCalendars() override;
  core::Result<ChangeSet> pullChanges(const std::string& calendarId, const std::string& cursor,
                                      const TimeWindow& window, const KnownVersions& known = {}) override;
  core::Result<std::vector<model::Event>> getEvent(const std::string& calendarId, const std::string& eventId) override;
  core::Result<WriteResult> create(const std::string& calendarId, const policy::ApprovedWrite& write) override;
  core::Result<WriteResult> update(const std::string& calendarId, const std::string& eventId, const std::string& etag,
                                   const policy::ApprovedWrite& write) override;
  core::Result<void> remove(const std::string& calendarId, const std::string& eventId, const std::string& etag,
                            const policy::ApprovedWrite& write) override;

  /// Whole events and series created, updated (PATCH with If-Match) or deleted as the parts of a
  /// batch request; a part that is not a plain success (409 duplicate, 412, a rate limit, a series,
  /// an occurrence) is then done on its own exactly as create/update/remove do it.
  /// Whether the copy must be another event: its type (out of office or ordinary) differs from
  /// the one `write` is written as (Google cannot change an event's type).
  bool replacesOnUpdate(const std::string& calendarId, const std::string& copyId, const policy::ApprovedWrite& write) override;
  /// events.watch on the calendar (a web_hook channel with calgate's id, address and token); the
  /// answer must name the channel asked for, a resource id and an expiration in the future.
  core::Result<Watch> watch(const std::string& calendarId, const WatchRequest& request) override;
  /// channels.stop; a channel Google no longer knows (404) is done.
  core::Result<void> unwatch(const Watch& watch) override;
  std::size_t batchLimit() const override;
  core::Result<BatchResults> writeBatch(const std::string& calendarId, const std::vector<BatchedWrite>& writes) override;

  /// Requests sent so far, retries included (benchmarks and tests).
  std::size_t requestCount() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace calgate::providers::google
