#pragma once
/// CalDAV (RFC 4791) provider for iCloud, Fastmail, mailbox.org, Nextcloud, Radicale, Xandikos...:
/// - discovery: the server URL, then /.well-known/caldav (RFC 6764), DAV:current-user-principal
///   (RFC 5397), C:calendar-home-set (possibly on another host); collections that cannot hold
///   VEVENTs (VTODO-only) are skipped;
/// - pulls: CTag check, then RFC 6578 sync-collection (empty token first; 507 truncation ->
///   continue with the returned token, and a listing still truncated after maxSyncRounds is not
///   complete; invalid token (403/409 DAV:valid-sync-token, 404/410) -> complete resync, a 5xx is
///   an error to retry), calendar-multiget in batches; members that are refused, fail or are left
///   out are unreadable, only a 404 is a deletion; servers without sync-collection get a time-range
///   calendar-query (complete only within the window: ChangeSet::completeWithin);
/// - writes: PUT to `<calendar>/<uid>.ics` with If-None-Match: * (idempotent creates), updates
///   with If-Match and SEQUENCE + 1 (412 -> re-read and retry once), DELETE with If-Match; an
///   occurrence is changed or cancelled inside its series resource (override / EXDATE).
/// No push: polled. Credentials are Basic auth with an app-specific password, sent only within the
/// site of the account's server URL (providers::credentialsMayFollow): a calendar home or calendar
/// an answer names on another site is refused (Invalid, cause UrlRejected), so the calendars are
/// always on the site whose registrable domain the account is proven to belong to.

#include "calgate/core/clock.hpp"
#include "calgate/providers/http/http_client.hpp"
#include "calgate/providers/provider.hpp"

#include <botan/secmem.h>

#include <mutex>
#include <optional>
#include <cstddef>
#include <string>
#include <vector>

namespace calgate::providers::caldav {

struct CalDavAccount {
  std::string serverUrl;  ///< e.g. https://caldav.icloud.com/ or a full principal / home URL
  std::string username;
  Botan::secure_vector<char> password;
};

struct CalDavOptions {
  std::size_t multigetBatch = 100;
  /// Use RFC 6578 sync-collection when the server has it (false: always a time-range listing).
  bool preferSyncCollection = true;
  int maxSyncRounds = 50;  ///< sync-collection rounds per pull (507 truncation -> another round)
  /// Budgets of one pull (listing and calendar data together). Exceeding one fails the pull (Invalid,
  /// cause BudgetExceeded); it is never cut short. A truncated (507) round that lists nothing new is
  /// Unavailable: a server looping on truncation is not followed.
  std::size_t maxPullBytes = 64 * 1024 * 1024;
  std::size_t maxPullEvents = 20000;
};

class CalDavProvider final : public Provider {
 public:
  CalDavProvider(HttpClient& http, CalDavAccount account, const core::Clock& clock, CalDavOptions options = {});

  model::ProviderKind kind() const override { return model::ProviderKind::CalDav; }
  core::Result<std::vector<CalendarInfo>> listCalendars() override;
  core::Result<ChangeSet> pullChanges(const std::string& calendarId, const std::string& cursor,
                                      const TimeWindow& window, const KnownVersions& known = {}) override;
  core::Result<std::vector<model::Event>> getEvent(const std::string& calendarId, const std::string& eventId) override;
  core::Result<WriteResult> create(const std::string& calendarId, const policy::ApprovedWrite& write) override;
  core::Result<WriteResult> update(const std::string& calendarId, const std::string& eventId, const std::string& etag,
                                   const policy::ApprovedWrite& write) override;
  core::Result<void> remove(const std::string& calendarId, const std::string& eventId, const std::string& etag,
                            const policy::ApprovedWrite& write) override;

  /// The calendar home URL found by discovery (runs it if needed).
  core::Result<std::string> calendarHome();
  /// The principal's C:calendar-user-address-set hrefs (RFC 6638) as the server reported them
  /// during discovery ("mailto:alice@acme.com", but also paths: Radicale lists "/alice/"); empty
  /// when the server reports none. At most 32. Runs discovery if needed. What a server claims
  /// here is not proof of anything by itself (see model::caldavIdentities).
  core::Result<std::vector<std::string>> userAddresses();

  /// Requests made so far (for benchmarks and tests).
  std::size_t requestCount() const { return requests_; }

 private:
  struct Resource;
  core::Result<HttpResponse> request(const std::string& method, const std::string& url, const std::string& body,
                                     std::vector<std::pair<std::string, std::string>> headers);
  /// GET and parse one resource; `splitRanges`: THISANDFUTURE changes read as parts (reading a
  /// source), or kept as stored (rewriting a copy).
  core::Result<Resource> fetch(const std::string& url, bool splitRanges = true);
  core::Error writeError(const HttpResponse& response, const std::string& what) const;
  core::Result<WriteResult> put(const std::string& url, const std::string& body, const std::string& condition,
                                const std::string& conditionValue);
  core::Result<WriteResult> writeSeries(const std::string& url, const std::string& etag,
                                        const policy::ApprovedWrite& write, bool removal);
  core::Result<void> checkTarget(const policy::ApprovedWrite& write) const;
  /// A write changes only the resource it was approved for: calgate's copy <calendar>/<uid>.ics of
  /// the approved UID, on the calendar's server. Invalid (cause WrongResource) for any other.
  core::Result<void> checkResource(const std::string& calendarId, const std::string& eventId,
                                   const policy::ApprovedWrite& write) const;

  HttpClient& http_;
  CalDavAccount account_;
  const core::Clock& clock_;
  CalDavOptions options_;
  std::mutex mutex_;
  std::optional<std::string> home_;
  std::vector<std::string> addresses_;
  std::size_t requests_ = 0;
};

/// Absolute URL of `href` relative to `base` ("https://h/a/b/" + "/x/" -> "https://h/x/").
std::string resolveUrl(const std::string& base, const std::string& href);

}  // namespace calgate::providers::caldav
