#pragma once
// Two real CalDAV servers (Radicale, Xandikos; tests/services/caldav.sh) as users and other apps see
// them, and a sync pair between a calendar on each in a SyncFixture's store.
#include "calgate/model/event.hpp"
#include "calgate/providers/caldav/caldav_provider.hpp"
#include "support/dav_client.hpp"
#include "sync/sync_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace calgate::test {

/// A server as users and other apps see it, plus calgate's adapter for it.
struct Dav : DavClient {
  std::unique_ptr<providers::caldav::CalDavProvider> provider;

  explicit Dav(const std::string& which) : DavClient(davServer(which)) {
    provider = std::make_unique<providers::caldav::CalDavProvider>(http, davAccount(s), core::systemClock());
  }
  std::string makeCalendar(const std::string& prefix) { return DavClient::makeCalendar(uniqueName(prefix)); }
  /// Stores `components` (VEVENT blocks) as one resource, as a user's client would.
  std::string put(const std::string& calendar, const std::string& uid, const std::string& components) {
    const std::string ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//test//EN\r\n" + components +
                            "END:VCALENDAR\r\n";
    auto r = send("PUT", calendar + uid + ".ics", ics, {{"Content-Type", "text/calendar; charset=utf-8"}});
    INFO(r.status << " " << r.body);
    REQUIRE((r.status == 201 || r.status == 204 || r.status == 200));
    return calendar + uid + ".ics";
  }
  /// Stores a whole iCalendar file as a client exported it; returns the server's status.
  int putFile(const std::string& calendar, const std::string& name, const std::string& ics) {
    return send("PUT", calendar + name + ".ics", ics, {{"Content-Type", "text/calendar; charset=utf-8"}}).status;
  }
  void remove(const std::string& href) {
    auto r = send("DELETE", href);
    REQUIRE((r.status == 204 || r.status == 200));
  }
  std::vector<model::Event> events(const std::string& calendar) {
    auto all = provider->pullChanges(calendar, "", {std::chrono::sys_days{std::chrono::year(2026) / 1 / 1}, std::chrono::sys_days{std::chrono::year(2028) / 1 / 1}});
    REQUIRE(all);
    return all->changed;
  }
};

}  // namespace calgate::test

namespace Catch {
/// A step as a failing comparison shows it: "create Create calendar/event@recurrence".
template <>
struct StringMaker<calgate::sync::StepSummary> {
  static std::string convert(const calgate::sync::StepSummary& s) {
    return std::string(calgate::sync::toString(s.kind)) + "/" + std::string(calgate::sync::toString(s.cause)) + " " +
           std::string(calgate::sync::toString(s.op)) + " " + s.fromCalendarId + ":" + s.eventId +
           (s.recurrenceId.empty() ? "" : "@" + s.recurrenceId);
  }
};
}  // namespace Catch

namespace calgate::test {

/// Previews the pair's plan, runs it, and checks that the run applied exactly the previewed steps
/// (except events the target refused) with one provider write each; `writes` counts the writes
/// (the engine's write observer). Fails the test on an error.
inline sync::SyncReport previewedSync(sync::SyncEngine& engine, const std::string& pairId, providers::Provider& source,
                                      providers::Provider& target, const std::size_t& writes) {
  const std::size_t before = writes;
  auto preview = engine.planPair(pairId, source, target);
  INFO((preview ? std::string() : preview.error().describe()));
  REQUIRE(preview);
  REQUIRE(writes == before);
  auto r = engine.syncPair(pairId, source, target);
  INFO((r ? std::string() : r.error().describe()));
  REQUIRE(r);
  auto expected = stepsToApply(*preview);
  std::erase_if(expected, [&](const auto& s) {
    return std::find(r->failedEvents.begin(), r->failedEvents.end(), s.eventId) != r->failedEvents.end();
  });
  // "unchanged" steps are what a pull happened to list again (Graph replays unchanged items, each
  // pull its own): nothing is applied for them, so they are not compared
  auto applied = r->steps;
  const auto unchanged = [](const sync::StepSummary& s) { return s.kind == sync::StepKind::Unchanged; };
  std::erase_if(applied, unchanged);
  std::erase_if(expected, unchanged);
  if (applied != expected) {
    for (const auto& step : applied) UNSCOPED_INFO("applied:   " << Catch::StringMaker<sync::StepSummary>::convert(step));
    for (const auto& step : expected) UNSCOPED_INFO("previewed: " << Catch::StringMaker<sync::StepSummary>::convert(step));
  }
  CHECK(applied == expected);
  const auto ops = std::count_if(expected.begin(), expected.end(), [](const auto& s) { return s.op != sync::WriteOp::None; });
  // one observed write per applied step; a recovered create (the copy was found, then brought up
  // to date) is still one step
  CHECK(writes - before == static_cast<std::size_t>(ops));
  CHECK(r->recovered <= static_cast<std::size_t>(ops));
  return *r;
}

/// A pair between two CalDAV calendars in the fixture's store.
struct DavPair {
  SyncFixture f;
  Dav source;
  Dav target;
  std::string sourceCal = source.makeCalendar("src");
  std::string targetCal = target.makeCalendar("dst");
  std::string pairId;
  std::size_t writes = 0;

  explicit DavPair(sync::Direction direction, const std::string& from = "radicale", const std::string& to = "xandikos")
      : f(direction), source(from), target(to) {
    sync::CalendarStore calendars(f.t.db(), f.clock);
    auto a = calendars.upsert(f.workCal.accountId, sourceCal, from, "Europe/Berlin", true);
    auto b = calendars.upsert(f.homeCal.accountId, targetCal, to, "Europe/Berlin", true);
    REQUIRE(a);
    REQUIRE(b);
    sync::PairStore pairs(f.t.db(), f.clock);
    sync::NewPair np;
    np.userId = f.userId;
    np.sourceCalendarId = a->id;
    np.targetCalendarId = b->id;
    np.direction = direction;
    pairId = pairs.create(np)->id;
    f.engine->setWriteObserver([this](std::string_view, std::string_view) { ++writes; });
  }
  /// A restart with other engine options (a failpoint, say); writes are still counted.
  void restart(sync::SyncOptions options) {
    f.restart(std::move(options));
    f.engine->setWriteObserver([this](std::string_view, std::string_view) { ++writes; });
  }
  /// Previews, then runs: on real servers too the run applies exactly the previewed steps.
  sync::SyncReport sync() { return previewedSync(*f.engine, pairId, *source.provider, *target.provider, writes); }
};


}  // namespace calgate::test
