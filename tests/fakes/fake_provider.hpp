#pragma once
// An in-memory providers::Provider for engine tests. Calendars hold resources (a series = master +
// overrides under one id), each with an ETag that changes on every write; a change log gives
// cursors and incremental pulls. Counts writes, and can fail on demand.

#include "calgate/providers/provider.hpp"

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace calgate::test {

class FakeProvider final : public providers::Provider {
 public:
  explicit FakeProvider(model::ProviderKind kind = model::ProviderKind::CalDav) : kind_(kind) {}

  // --- what a user (or another app) does directly in the calendar --------------------------------
  /// Creates or replaces a resource; returns its id. `events`: master first, then overrides.
  std::string userPut(const std::string& calendar, std::vector<model::Event> events);
  void userDelete(const std::string& calendar, const std::string& id);
  /// Creates an empty calendar (listCalendars() shows it).
  void userCreateCalendar(const std::string& calendar);
  /// Ids whose data the fake pretends it cannot parse: reported as unreadable (and skipped, with
  /// kUnreadableReason), never as events.
  std::set<std::string> unreadable;
  static constexpr const char* kUnreadableReason = "the test server's data cannot be parsed";
  /// Pulls from a cursor fail with a server error (as Xandikos answers a token it lost).
  bool failCursorPulls = false;
  /// While set, every pull answers a complete listing with nothing in it (a server's glitch: an
  /// empty answer to a query that should list everything) and hands back the cursor it was given.
  bool emptyListings = false;
  /// Titles of events this server refuses to store (a 403 for that event, as a CalDAV server
  /// answers a resource it finds invalid): creates and updates of them fail with WriteRefused.
  std::set<std::string> refusedTitles;
  /// Incremental pulls leave out a resource created and deleted after the cursor (as Xandikos
  /// does, and RFC 6578 permits): no change, no removal.
  bool omitShortLived = false;
  /// Writes answer their ETag as a weak one ("W/" + the ETag listings show), as some servers'
  /// PUT responses do.
  bool weakWriteEtags = false;
  /// Forgets the change log, so the next pull with an old cursor must start over (expired token).
  void expireCursors();

  // --- inspection ---------------------------------------------------------------------------------
  std::vector<std::vector<model::Event>> resources(const std::string& calendar) const;
  std::size_t creates = 0, updates = 0, removes = 0;
  std::size_t completeListings = 0;  ///< pulls answered with a complete listing
  /// Every pull (listing) answered, and every resource whose content a pull or getEvent returned
  /// (what a CalDAV server would send in a multiget or GET): a resource listed at the version the
  /// caller knows is not counted (it is reported in ChangeSet::unchanged).
  std::size_t pulls = 0, reads = 0;
  std::size_t writes() const { return creates + updates + removes; }

  /// Called before every write with the operation name ("create", "update", "remove"); may return
  /// an error to make the write fail.
  std::function<core::Result<void>(const std::string& operation)> beforeWrite;

  // --- Provider -----------------------------------------------------------------------------------
  model::ProviderKind kind() const override { return kind_; }
  core::Result<std::vector<providers::CalendarInfo>> listCalendars() override;
  core::Result<providers::ChangeSet> pullChanges(const std::string& calendarId, const std::string& cursor,
                                                 const providers::TimeWindow& window,
                                                 const providers::KnownVersions& known = {}) override;
  core::Result<std::vector<model::Event>> getEvent(const std::string& calendarId,
                                                       const std::string& eventId) override;
  core::Result<providers::WriteResult> create(const std::string& calendarId, const policy::ApprovedWrite& write) override;
  core::Result<providers::WriteResult> update(const std::string& calendarId, const std::string& eventId,
                                              const std::string& etag, const policy::ApprovedWrite& write) override;
  core::Result<void> remove(const std::string& calendarId, const std::string& eventId, const std::string& etag,
                            const policy::ApprovedWrite& write) override;

 private:
  struct Resource {
    std::vector<model::Event> events;
    std::string etag;
  };
  struct Calendar {
    std::map<std::string, Resource> resources;
    std::vector<std::pair<long, std::string>> log;  // (sequence number, id) of every change
    long epoch = 0;                                 // bumped by expireCursors
    std::map<std::string, long> created;            // id -> sequence number of its creation
  };
  void touch(Calendar& cal, const std::string& id);
  void listResource(providers::ChangeSet& out, const std::string& id, const Resource& r,
                    const providers::KnownVersions& known);
  static std::unexpected<core::Error> refused();
  providers::WriteResult store(Calendar& cal, const std::string& id, std::vector<model::Event> events);

  model::ProviderKind kind_;
  mutable std::mutex mutex_;
  std::map<std::string, Calendar> calendars_;
  long counter_ = 0;
};

}  // namespace calgate::test
