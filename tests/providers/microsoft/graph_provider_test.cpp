// The Microsoft Graph adapter against the strict contract fake (tests/services/microsoft/, one fake
// process per test): every behaviour of CONTRACT.md §2 the adapter relies on, each asserting the
// requests it made (route, query, headers, count) and the model it produced.
#include "calgate/policy/evaluator.hpp"
#include "calgate/providers/http/curl_http_client.hpp"
#include "calgate/providers/microsoft/graph_provider.hpp"
#include "calgate/providers/microsoft/mapping.hpp"
#include "support/batched_writes.hpp"
#include "support/graph_fake.hpp"
#include "providers/microsoft/graph_setup.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <thread>

using namespace calgate;
using namespace calgate::model;
using namespace calgate::providers;
using namespace calgate::providers::microsoft;
using namespace std::chrono;
using nlohmann::json;
using test::batchOf;
using test::written;

using namespace calgate::test::graph;

TEST_CASE("calendars: the user's and those shared with them; writable = canEdit", "[microsoft][contract]") {
  Setup s;
  s.fake.addUser("bob@contoso.example");
  const auto team = s.fake.addCalendar("bob@contoso.example", "Team");
  const auto board = s.fake.addCalendar("bob@contoso.example", "Board");
  s.fake.share(team, kUser, "write");
  s.fake.share(board, kUser, "read");
  auto calendars = s.provider->listCalendars();
  REQUIRE(calendars);
  std::map<std::string, bool> writable;
  for (const auto& c : *calendars) writable[c.displayName] = c.writable;
  CHECK(writable == std::map<std::string, bool>{{"Calendar", true}, {"Team", true}, {"Board", false}});
  CHECK(count(s.requests(), "calendars.list") == 1);
}

TEST_CASE("a complete round: calendarView delta over the window, Prefer headers on every page, nextLinks to the deltaLink",
          "[microsoft][contract][listing]") {
  GraphOptions o;
  o.pageSize = 3;
  Setup s(kPlain, o);
  for (int i = 1; i <= 7; ++i) {
    const std::string day = "2026-06-" + std::string(i < 10 ? "0" : "") + std::to_string(i);
    s.fake.userCreates(s.calendar, timed("meeting " + std::to_string(i), day + "T09:00:00", day + "T10:00:00", "W. Europe Standard Time"));
  }
  s.fake.userCreates(s.calendar, timed("long ago", "2025-01-05T09:00:00", "2025-01-05T10:00:00"));
  s.requests();
  const auto changes = s.pull();
  CHECK(changes.complete);
  REQUIRE(changes.completeWithin);
  CHECK(changes.completeWithin->from == kWindow.from);
  CHECK(changes.changed.size() == 7);
  CHECK(byTitle(changes.changed, "long ago") == nullptr);
  const Event* first = byTitle(changes.changed, "meeting 1");
  REQUIRE(first);
  REQUIRE(std::holds_alternative<ZonedTime>(first->start));
  CHECK(std::get<ZonedTime>(first->start).instant == sys_days{2026y / June / 1} + 7h);  // 09:00 in Berlin summer time
  CHECK_FALSE(first->etag.empty());
  const auto requests = s.requests();
  REQUIRE(requests.size() == 3);
  for (const auto& r : requests) {
    CHECK(r["route"] == "delta");
    const std::string prefer = r["prefer"].get<std::string>();
    CHECK(prefer.find("odata.maxpagesize=3") != std::string::npos);
    CHECK(prefer.find("outlook.timezone=\"UTC\"") != std::string::npos);
    CHECK(prefer.find("IdType=\"ImmutableId\"") != std::string::npos);
  }
  CHECK(requests[0]["query"]["startDateTime"] == "2026-05-01T00:00:00Z");
  CHECK(requests[1]["query"].size() == 1);  // the nextLink as given: its $skiptoken alone
  CHECK(requests[1]["query"].contains("$skiptoken"));
}

TEST_CASE("incremental rounds: changes, deletions and events moved out of the window; nothing when nothing changed",
          "[microsoft][contract][listing]") {
  Setup s(kPlain);
  const auto a = s.fake.userCreates(s.calendar, timed("a", "2026-06-10T09:00:00", "2026-06-10T10:00:00"));
  const auto b = s.fake.userCreates(s.calendar, timed("b", "2026-06-11T09:00:00", "2026-06-11T10:00:00"));
  const auto c = s.fake.userCreates(s.calendar, timed("c", "2026-06-12T09:00:00", "2026-06-12T10:00:00"));
  const auto first = s.pull();
  s.fake.userEdits(a["id"], {{"subject", "a2"}});
  s.fake.userDeletes(b["id"]);
  s.fake.userEdits(c["id"], timed("c", "2027-09-01T09:00:00", "2027-09-01T10:00:00"));
  const auto second = s.pull(first.cursor);
  CHECK_FALSE(second.complete);
  REQUIRE(second.changed.size() == 1);
  CHECK(second.changed[0].title == "a2");
  std::set<std::string> removed(second.removed.begin(), second.removed.end());
  CHECK(removed == std::set<std::string>{b["id"].get<std::string>(), c["id"].get<std::string>()});
  const auto third = s.pull(second.cursor);
  CHECK(third.changed.empty());
  CHECK(third.removed.empty());
  CHECK_FALSE(third.complete);
}

TEST_CASE("replays, duplicates, empty pages and shuffled order collapse to one version per id", "[microsoft][contract][listing]") {
  GraphOptions o;
  o.pageSize = 2;
  Setup s({{"replayRate", "0.5"}, {"duplicateRate", "0.5"}, {"emptyPages", "true"}, {"shuffle", "true"}, {"seed", "7"}}, o);
  std::vector<std::string> ids;
  for (int i = 10; i < 16; ++i) {
    const std::string day = "2026-06-" + std::to_string(i);
    ids.push_back(s.fake.userCreates(s.calendar, timed("e" + std::to_string(i), day + "T09:00:00", day + "T10:00:00"))["id"]);
  }
  const auto first = s.pull();
  std::set<std::string> seen;
  for (const auto& e : first.changed) CHECK(seen.insert(e.id).second);
  CHECK(seen.size() == 6);
  s.fake.userEdits(ids[0], {{"subject", "renamed"}});
  const auto second = s.pull(first.cursor);
  const Event* renamed = byTitle(second.changed, "renamed");
  REQUIRE(renamed);
  CHECK(byTitle(second.changed, "e10") == nullptr);  // the old version never wins over the new
  for (const auto& e : second.changed) CHECK(std::count_if(second.changed.begin(), second.changed.end(), [&](const Event& x) { return x.id == e.id; }) == 1);
}

TEST_CASE("an expired delta link (410 + Location) starts a complete round", "[microsoft][contract][listing]") {
  Setup s(kPlain);
  s.fake.userCreates(s.calendar, timed("a", "2026-06-10T09:00:00", "2026-06-10T10:00:00"));
  const auto first = s.pull();
  s.fake.expireDelta(s.calendar);
  s.requests();
  const auto again = s.pull(first.cursor);
  CHECK(again.complete);
  CHECK(again.changed.size() == 1);
  const auto requests = s.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0]["status"] == 410);
  CHECK(requests[1]["status"] == 200);
}

TEST_CASE("syncStateNotFound and resyncRequired start a complete round too", "[microsoft][contract][listing]") {
  for (const std::string answer : {"syncStateNotFound", "resyncRequired"}) {
    auto switches = kPlain;
    switches["expiredDeltaAnswer"] = "\"" + answer + "\"";
    Setup s(switches);
    s.fake.userCreates(s.calendar, timed("a", "2026-06-10T09:00:00", "2026-06-10T10:00:00"));
    const auto first = s.pull();
    s.fake.expireDelta(s.calendar);
    const auto again = s.pull(first.cursor);
    CHECK(again.complete);
    CHECK(again.changed.size() == 1);
  }
}

TEST_CASE("a moved window starts a new complete round, complete only within it", "[microsoft][contract][listing]") {
  Setup s(kPlain);
  s.fake.userCreates(s.calendar, timed("early", "2026-05-02T09:00:00", "2026-05-02T10:00:00"));
  const auto first = s.pull();
  REQUIRE(first.changed.size() == 1);
  const TimeWindow later{kWindow.from + days(2), kWindow.to + days(2)};
  s.requests();
  const auto moved = s.pull(first.cursor, later);
  CHECK(moved.complete);
  REQUIRE(moved.completeWithin);
  CHECK(moved.completeWithin->from == later.from);
  CHECK(moved.changed.empty());   // "early" aged out of the window: not listed...
  CHECK(moved.removed.empty());   // ...and not reported removed
  const auto requests = s.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0]["query"]["startDateTime"] == "2026-05-03T00:00:00Z");
}

TEST_CASE("series arrive as occurrences and exceptions, each an event of its own", "[microsoft][contract][listing]") {
  Setup s(kPlain);
  json series = timed("stand-up", "2026-06-08T09:00:00", "2026-06-08T09:15:00", "W. Europe Standard Time");
  series["recurrence"] = {{"pattern", {{"type", "daily"}, {"interval", 1}}},
                          {"range", {{"type", "numbered"}, {"startDate", "2026-06-08"}, {"numberOfOccurrences", 3}}}};
  s.fake.userCreates(s.calendar, series);
  const auto first = s.pull();
  REQUIRE(first.changed.size() == 3);
  std::set<std::string> uids, ids;
  for (const auto& e : first.changed) {
    uids.insert(e.uid);
    ids.insert(e.id);
    CHECK(e.recurrence.empty());
    CHECK_FALSE(e.recurrenceId);
    CHECK_FALSE(e.seriesId.empty());
  }
  CHECK(uids.size() == 3);
  CHECK(ids.size() == 3);
  // the second occurrence moves and is renamed: an exception, same id, new content
  const auto occurrences = first.changed;
  const auto second = std::find_if(occurrences.begin(), occurrences.end(), [](const Event& e) {
    return std::get<ZonedTime>(e.start).instant == sys_days{2026y / June / 9} + 7h;
  });
  REQUIRE(second != occurrences.end());
  s.fake.userEdits(second->id, timed("moved stand-up", "2026-06-09T11:00:00", "2026-06-09T11:15:00", "W. Europe Standard Time"));
  const auto next = s.pull(first.cursor);
  // the fake (as Outlook may) lists the series' other occurrences again: harmless replays
  const auto moved = std::find_if(next.changed.begin(), next.changed.end(), [&](const Event& e) { return e.id == second->id; });
  REQUIRE(moved != next.changed.end());
  CHECK(moved->title == "moved stand-up");
  CHECK(moved->uid == second->uid);
  CHECK(std::get<ZonedTime>(moved->start).instant == sys_days{2026y / June / 9} + 9h);
  for (const auto& e : next.changed) {
    if (e.id != second->id) CHECK(e.title == "stand-up");
  }
}

TEST_CASE("create: the copy's body, Windows zone names, a transactionId, the origin marker", "[microsoft][contract][writes]") {
  Setup s(kPlain);
  Event e = sourceEvent("planning");
  e.sensitivity = Sensitivity::Private;
  e.showAs = ShowAs::OutOfOffice;
  s.requests();
  auto w = s.provider->create(s.calendar, approve(e, s.calendar));
  REQUIRE(w);
  CHECK_FALSE(w->existed);
  const auto requests = s.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0]["route"] == "events.list");  // the lookup by origin marker
  CHECK(requests[0]["query"]["$filter"].get<std::string>().find(std::string(kOriginPropertyId)) != std::string::npos);
  CHECK(requests[1]["route"] == "events.create");
  const auto stored = s.fake.events(s.calendar);
  REQUIRE(stored.size() == 1);
  CHECK(stored[0]["subject"] == "planning");
  CHECK(stored[0]["sensitivity"] == "private");
  CHECK(stored[0]["showAs"] == "oof");
  CHECK(stored[0]["start"]["timeZone"] == "W. Europe Standard Time");
  CHECK(stored[0]["start"]["dateTime"].get<std::string>().starts_with("2026-06-10T14:00:00"));
  CHECK(stored[0]["transactionId"].get<std::string>().starts_with("calgate-"));
  CHECK(stored[0]["extended"][std::string(kOriginPropertyId)].get<std::string>().starts_with("pr_graph_test "));
  auto read = s.provider->getEvent(s.calendar, w->id);
  REQUIRE(read);
  REQUIRE(read->size() == 1);
  CHECK((*read)[0].origin.has_value());
  CHECK((*read)[0].etag == w->etag);
}

TEST_CASE("create is idempotent: a retry after a crash finds the copy instead of making a second", "[microsoft][contract][writes]") {
  Setup s(kPlain);
  const Event e = sourceEvent("retro");
  auto first = s.provider->create(s.calendar, approve(e, s.calendar));
  REQUIRE(first);
  // hours later (past any transactionId window) the engine, which never recorded the copy, tries again
  s.fake.clock({{"advanceMs", 6 * 3600 * 1000}});
  auto again = s.provider->create(s.calendar, approve(e, s.calendar));
  REQUIRE(again);
  CHECK(again->existed);
  CHECK(again->id == first->id);
  CHECK(s.fake.events(s.calendar).size() == 1);
}

TEST_CASE("a zone without a Windows name is written as the instant in UTC", "[microsoft][contract][writes]") {
  Setup s(kPlain);
  Event e = sourceEvent("cet", 10, "CET");
  auto w = s.provider->create(s.calendar, approve(e, s.calendar));
  REQUIRE(w);
  const auto stored = s.fake.events(s.calendar);
  CHECK(stored[0]["start"]["timeZone"] == "UTC");
  CHECK(stored[0]["start"]["dateTime"].get<std::string>().starts_with("2026-06-10T12:00:00"));
}

TEST_CASE("update: PATCH with If-Match; a stale ETag re-reads, checks the copy is ours, and retries once", "[microsoft][contract][writes]") {
  Setup s(kPlain);
  Event e = sourceEvent("review");
  auto w = s.provider->create(s.calendar, approve(e, s.calendar));
  REQUIRE(w);
  e.title = "review v2";
  auto u = s.provider->update(s.calendar, w->id, w->etag, approve(e, s.calendar));
  REQUIRE(u);
  CHECK(u->etag != w->etag);
  s.requests();
  e.title = "review v3";
  auto stale = s.provider->update(s.calendar, w->id, w->etag, approve(e, s.calendar));  // the first ETag again
  REQUIRE(stale);
  const auto requests = s.requests();
  REQUIRE(requests.size() == 3);
  CHECK(requests[0]["status"] == 412);
  CHECK(requests[0]["ifMatch"] == w->etag);
  CHECK(requests[1]["route"] == "events.get");
  CHECK(requests[2]["status"] == 200);
  CHECK(s.fake.events(s.calendar)[0]["subject"] == "review v3");
}

TEST_CASE("update refuses to change an event that is not calgate's copy", "[microsoft][contract][writes]") {
  Setup s(kPlain);
  const auto mine = s.fake.userCreates(s.calendar, timed("my own", "2026-06-10T09:00:00", "2026-06-10T10:00:00"));
  const Event e = sourceEvent("copy");
  auto u = s.provider->update(s.calendar, mine["id"], "W/\"stale\"", approve(e, s.calendar));
  REQUIRE_FALSE(u);
  CHECK(u.error().cause == core::Cause::WrongResource);
  CHECK(s.fake.events(s.calendar)[0]["subject"] == "my own");
}

TEST_CASE("remove: DELETE with If-Match; already gone is done", "[microsoft][contract][writes]") {
  Setup s(kPlain);
  const Event e = sourceEvent("gone");
  auto w = s.provider->create(s.calendar, approve(e, s.calendar));
  REQUIRE(w);
  REQUIRE(s.provider->remove(s.calendar, w->id, w->etag, approve(e, s.calendar, true)));
  CHECK(s.fake.events(s.calendar).empty());
  CHECK(s.provider->remove(s.calendar, w->id, w->etag, approve(e, s.calendar, true)));
}

TEST_CASE("a series Outlook cannot hold exactly: holdsSeries says so (the engine copies its occurrences); written anyway, it is refused",
          "[microsoft][contract][writes]") {
  Setup s(kPlain);
  Event e = sourceEvent("first Monday or Tuesday");
  e.recurrence = {"RRULE:FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=1;COUNT=3"};
  const std::size_t before = s.provider->requestCount();
  CHECK_FALSE(s.provider->holdsSeries(s.calendar, approve(e, s.calendar)));
  CHECK(s.provider->requestCount() == before);  // decided without asking the server
  auto w = s.provider->create(s.calendar, approve(e, s.calendar));
  REQUIRE_FALSE(w);
  CHECK(w.error().cause == core::Cause::WriteRefused);
  CHECK(s.fake.events(s.calendar).empty());
  Event rdate = sourceEvent("with an extra date");
  rdate.recurrence = {"RRULE:FREQ=DAILY;COUNT=3", "RDATE;TZID=Europe/Berlin:20260620T140000"};
  CHECK_FALSE(s.provider->holdsSeries(s.calendar, approve(rdate, s.calendar)));
  // what Outlook holds exactly, and what is no series at all
  Event weekly = sourceEvent("weekly");
  weekly.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=3"};
  CHECK(s.provider->holdsSeries(s.calendar, approve(weekly, s.calendar)));
  CHECK(s.provider->holdsSeries(s.calendar, approve(sourceEvent("single"), s.calendar)));
}

TEST_CASE("throttling: 429 waits its fractional Retry-After and retries; 503 too", "[microsoft][contract][limits]") {
  Setup s(kPlain);
  s.fake.faults(json::array({{{"route", "calendars.list"}, {"status", 429}, {"times", 1}},
                             {{"route", "calendars.list"}, {"status", 503}, {"times", 1}}}));
  auto calendars = s.provider->listCalendars();
  REQUIRE(calendars);
  CHECK(s.sleeps == std::vector<milliseconds>{milliseconds(2128), milliseconds(2128)});
}

TEST_CASE("throttling beyond the in-call retries is RateLimited with Graph's Retry-After for the job queue", "[microsoft][contract][limits]") {
  GraphOptions o;
  o.maxAttempts = 2;
  Setup s(kPlain, o);
  s.fake.faults(json::array({{{"route", "calendars.list"}, {"status", 429}, {"times", 5}, {"retryAfter", 7.5}}}));
  auto calendars = s.provider->listCalendars();
  REQUIRE_FALSE(calendars);
  CHECK(calendars.error().code == core::ErrorCode::RateLimited);
  REQUIRE(calendars.error().retryAfter);
  CHECK(*calendars.error().retryAfter == seconds(8));
  CHECK(s.sleeps == std::vector<milliseconds>{milliseconds(7500)});
}

TEST_CASE("a long Retry-After goes back to the job queue at once", "[microsoft][contract][limits]") {
  Setup s(kPlain);
  s.fake.faults(json::array({{{"route", "calendars.list"}, {"status", 429}, {"times", 1}, {"retryAfter", 120}}}));
  auto calendars = s.provider->listCalendars();
  REQUIRE_FALSE(calendars);
  CHECK(calendars.error().retryAfter == seconds(120));
  CHECK(s.sleeps.empty());
}

TEST_CASE("a 429 without Retry-After backs off exponentially with jitter", "[microsoft][contract][limits]") {
  Setup s({{"retryAfterSeconds", "null"}, {"replayRate", "0"}});
  s.fake.faults(json::array({{{"route", "calendars.list"}, {"status", 429}, {"times", 2}}}));
  REQUIRE(s.provider->listCalendars());
  REQUIRE(s.sleeps.size() == 2);
  CHECK(s.sleeps[0] <= milliseconds(500));
  CHECK(s.sleeps[1] <= milliseconds(1000));
}

TEST_CASE("at most 4 requests in flight: eight concurrent reads never meet the mailbox's concurrency limit", "[microsoft][contract][limits]") {
  Setup s({{"latencyMs", "100"}, {"replayRate", "0"}});
  const Event e = sourceEvent("x");
  auto w = s.provider->create(s.calendar, approve(e, s.calendar));
  REQUIRE(w);
  s.requests();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (s.provider->getEvent(s.calendar, w->id)) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 8);
  for (const auto& r : s.requests()) CHECK(r["status"] == 200);
}

TEST_CASE("the adapters of one mailbox in one process share its 4 slots (localSlots): never a fifth request in flight",
          "[microsoft][contract][limits]") {
  Setup s({{"latencyMs", "100"}, {"replayRate", "0"}});
  // six pairs of the mailbox syncing at once: six adapters, each with its own connection
  std::vector<std::unique_ptr<CurlHttpClient>> clients;
  std::vector<std::unique_ptr<GraphProvider>> adapters;
  for (int i = 0; i < 6; ++i) {
    GraphOptions o;
    o.slots = localSlots();
    o.slotKey = "graph:test-six-adapters";
    o.sleep = [](milliseconds) {};
    clients.push_back(std::make_unique<CurlHttpClient>(test::GraphFake::httpOptions()));
    adapters.push_back(std::make_unique<GraphProvider>(*clients.back(), *s.tokens, core::systemClock(), GraphEndpoints{s.fake.url}, o));
  }
  s.requests();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (auto& adapter : adapters) {
    threads.emplace_back([&ok, &p = *adapter] {
      if (p.listCalendars()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 6);
  const auto requests = s.requests();
  CHECK(requests.size() == 6);
  for (const auto& r : requests) CHECK(r["status"] == 200);  // 429 had a fifth been in flight
}

TEST_CASE("a rejected access token is replaced once", "[microsoft][contract]") {
  Setup s(kPlain);
  s.fake.control("POST", "users/" + test::FakeService::encoded(kUser) + "/expire-access-tokens", json::object());
  REQUIRE(s.provider->listCalendars());
  CHECK(s.tokens->rejections == 1);
}

TEST_CASE("many creates: eight lookups, then one listing of the pair's copies answers the rest", "[microsoft][contract][writes]") {
  Setup s(kPlain);
  s.requests();
  std::vector<WriteResult> written;
  for (int i = 0; i < 20; ++i) {
    auto w = s.provider->create(s.calendar, approve(sourceEvent("bulk " + std::to_string(i), 1 + i % 28), s.calendar));
    REQUIRE(w);
    CHECK_FALSE(w->existed);
    written.push_back(*w);
  }
  auto requests = s.requests();
  CHECK(count(requests, "events.create") == 20);
  CHECK(count(requests, "events.list") == 9);  // eight lookups, one listing
  const auto stored = s.fake.events(s.calendar);
  REQUIRE(stored.size() == 20);
  CHECK(stored[0]["extended"][std::string(kPairPropertyId)] == "pr_graph_test");

  // a retried create finds its copy in the index (read once more before it is trusted)
  auto again = s.provider->create(s.calendar, approve(sourceEvent("bulk 3", 4), s.calendar));
  REQUIRE(again);
  CHECK(again->existed);
  CHECK(again->id == written[3].id);
  requests = s.requests();
  CHECK(count(requests, "events.get") == 1);
  CHECK(count(requests, "events.create") == 0);

  // the user deleted a copy after the listing: the index no longer trusts it, the copy is made again
  s.fake.userDeletes(written[5].id);
  auto remade = s.provider->create(s.calendar, approve(sourceEvent("bulk 5", 6), s.calendar));
  REQUIRE(remade);
  CHECK_FALSE(remade->existed);
  CHECK(remade->id != written[5].id);
  CHECK(s.fake.events(s.calendar).size() == 20);
}

TEST_CASE("batched writes: creates, updates and deletes go as one $batch each; creates find earlier copies through one listing",
          "[microsoft][contract][writes][batch]") {
  Setup s(kPlain);
  std::vector<policy::ApprovedWrite> creates, updates, removals;
  for (int i = 0; i < 12; ++i) {
    Event e = sourceEvent("item " + std::to_string(i), 3 + i);
    creates.push_back(approve(e, s.calendar));
    e.title += " v2";
    updates.push_back(approve(e, s.calendar));
    removals.push_back(approve(e, s.calendar, true));
  }
  s.requests();
  const std::size_t before = s.provider->requestCount();
  const auto copies = written(s.provider->writeBatch(s.calendar, batchOf(BatchedWrite::Op::Create, creates)));
  CHECK(s.provider->requestCount() - before == 2);  // the pair's copy listing, then one $batch
  auto requests = s.requests();
  CHECK(count(requests, "events.list") == 1);
  CHECK(count(requests, "events.create") == 12);
  const auto stored = s.fake.events(s.calendar);
  REQUIRE(stored.size() == 12);
  for (const auto& e : stored) CHECK(e["transactionId"].get<std::string>().starts_with("calgate-"));

  const auto changed = written(s.provider->writeBatch(s.calendar, batchOf(BatchedWrite::Op::Update, updates, copies)));
  for (const auto& e : s.fake.events(s.calendar)) CHECK_THAT(e["subject"].get<std::string>(), Catch::EndsWith(" v2"));
  for (std::size_t i = 0; i < changed.size(); ++i) CHECK(changed[i].id == copies[i].id);
  requests = s.requests();
  CHECK(count(requests, "events.update") == 12);
  for (const auto& r : requests) {
    if (r["route"] == "events.update") CHECK_FALSE(r["ifMatch"].is_null());
    if (r["route"] == "events.update") CHECK_THAT(r["prefer"].get<std::string>(), Catch::Contains("ImmutableId"));
  }
  written(s.provider->writeBatch(s.calendar, batchOf(BatchedWrite::Op::Remove, removals, changed)));
  CHECK(s.fake.events(s.calendar).empty());
  const auto batches = s.fake.state()["batches"];
  REQUIRE(batches.size() == 3);
  for (const auto& b : batches) CHECK(b["requests"] == 12);
  CHECK(s.provider->requestCount() - before == 4);
}

TEST_CASE("batched writes: a request that is not a plain success is done on its own; a copy already there is found; a series goes alone",
          "[microsoft][contract][writes][batch]") {
  Setup s(kPlain);
  const auto kept = approve(sourceEvent("already there", 2), s.calendar);
  auto existing = s.provider->create(s.calendar, kept);  // an earlier run wrote it, then crashed
  REQUIRE(existing);
  const auto edited = approve(sourceEvent("edited by the user", 4), s.calendar);
  auto stale = s.provider->create(s.calendar, edited);
  REQUIRE(stale);
  s.fake.userEdits(stale->id, {{"categories", {"Red"}}});  // its ETag moved on
  Event weekly = sourceEvent("weekly", 1);
  weekly.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=4"};
  const auto series = approve(weekly, s.calendar);
  const auto fresh = approve(sourceEvent("new", 6), s.calendar);
  const auto throttled = approve(sourceEvent("throttled", 8), s.calendar);
  s.requests();
  s.fake.faults(json::array({{{"route", "events.create"}, {"status", 429}, {"times", 1}}}));
  std::vector<BatchedWrite> writes{{BatchedWrite::Op::Create, "", "", &throttled},
                                   {BatchedWrite::Op::Create, "", "", &kept},
                                   {BatchedWrite::Op::Update, stale->id, stale->etag, &edited},
                                   {BatchedWrite::Op::Create, "", "", &series},
                                   {BatchedWrite::Op::Create, "", "", &fresh}};
  auto results = s.provider->writeBatch(s.calendar, writes);
  REQUIRE(results);
  REQUIRE(results->size() == 5);
  REQUIRE((*results)[0]);
  CHECK_FALSE((*results)[0]->existed);
  REQUIRE((*results)[1]);
  CHECK((*results)[1]->existed);  // found through the pair's copies: never posted again
  CHECK((*results)[1]->id == existing->id);
  REQUIRE((*results)[2]);
  REQUIRE((*results)[3]);  // written on its own, with its recurrence
  REQUIRE((*results)[4]);
  const auto batches = s.fake.state()["batches"];
  REQUIRE(batches.size() == 1);
  CHECK(batches[0]["requests"] == 3);  // the throttled create, the stale update, the new create
  const auto requests = s.requests();
  CHECK(std::count_if(requests.begin(), requests.end(), [](const json& r) { return r["status"] == 429; }) == 1);
  CHECK(std::count_if(requests.begin(), requests.end(), [](const json& r) { return r["status"] == 412; }) == 2);
  const auto events = s.fake.events(s.calendar);
  CHECK(events.size() == 5);
  for (const auto& e : events) {
    if (e["id"] == (*results)[3]->id) CHECK(e["recurrence"]["pattern"]["type"] == "weekly");
    if (e["id"] == stale->id) {
      CHECK(e["subject"] == "edited by the user");
      CHECK(e["categories"] == json::array({"Red"}));
    }
  }
}
