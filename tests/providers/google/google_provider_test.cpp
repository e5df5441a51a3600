// The Google adapter against the strict contract fake (tests/services/google/, one fake process per
// test): every behaviour of CONTRACT.md §1 the adapter relies on, each asserting the requests it
// made (method, query, count) and the model it produced.
#include "calgate/policy/evaluator.hpp"
#include "calgate/providers/google/google_provider.hpp"
#include "calgate/providers/google/mapping.hpp"
#include "calgate/providers/google/wire.hpp"
#include "calgate/providers/http/curl_http_client.hpp"
#include "fakes/fake_clock.hpp"
#include "support/batched_writes.hpp"
#include "support/approved_write.hpp"
#include "support/google_fake.hpp"

#include <catch2/catch.hpp>

using namespace calgate;
using namespace calgate::model;
using namespace calgate::providers;
using namespace calgate::providers::google;
using namespace std::chrono;
using nlohmann::json;
using test::batchOf;
using test::written;
using test::approvedWrite;

namespace {

const std::string kUser = "ada@acme.example";
const TimeWindow kWindow{sys_days{2026y / May / 1}, sys_days{2027y / June / 1}};

json timed(const std::string& summary, const std::string& start, int minutes = 60, const std::string& zone = "") {
  const auto from = parseRfc3339(start).value();
  json t{{"summary", summary}, {"start", {{"dateTime", start}}}, {"end", {{"dateTime", formatUtc(from + std::chrono::minutes(minutes))}}}};
  if (!zone.empty()) {
    t["start"]["timeZone"] = zone;
    t["end"]["timeZone"] = zone;
  }
  return t;
}

struct Setup {
  test::GoogleFake fake;
  std::unique_ptr<test::FakeTokens> tokens;
  CurlHttpClient http{test::GoogleFake::httpOptions()};
  std::vector<milliseconds> sleeps;
  std::unique_ptr<GoogleProvider> provider;
  std::size_t seen = 0;

  explicit Setup(const std::map<std::string, std::string>& switches = {}, GoogleOptions options = {}) : fake(switches) {
    fake.addUser(kUser, "acme.example");
    fake.clock({{"now", "2026-06-01T00:00:00Z"}, {"frozen", true}});
    tokens = std::make_unique<test::FakeTokens>(fake, kUser);
    options.sleep = [this](milliseconds d) { sleeps.push_back(d); };
    provider = std::make_unique<GoogleProvider>(http, *tokens, core::systemClock(), GoogleEndpoints{fake.url}, options);
  }
  std::vector<json> requests() { return fake.requestsSince(seen); }
};

policy::ApprovedWrite approve(const Event& source, const std::string& calendar, bool removal = false) {
  return approvedWrite(source, calendar, ProviderKind::Google, "acme.example", "pr_google_test", removal);
}

Event sourceEvent(const std::string& title, int day = 10) {
  Event e;
  e.uid = "src-" + title;
  e.title = title;
  e.description = "notes";
  e.start = *zonedFromLocal(local_days{2026y / June / day} + 14h, "Europe/Berlin");
  e.end = *zonedFromLocal(local_days{2026y / June / day} + 15h, "Europe/Berlin");
  return e;
}

const Event* byTitle(const std::vector<Event>& events, const std::string& title) {
  for (const auto& e : events) {
    if (e.title == title) return &e;
  }
  return nullptr;
}

std::size_t count(const std::vector<json>& requests, const std::string& method) {
  return static_cast<std::size_t>(std::count_if(requests.begin(), requests.end(), [&](const json& r) { return r["method"] == method; }));
}

}  // namespace

TEST_CASE("calendars: the user's calendars; owners may write", "[google][contract]") {
  Setup s;
  const auto team = s.fake.addCalendar(kUser, "Team", "Europe/Berlin");
  auto calendars = s.provider->listCalendars();
  REQUIRE(calendars);
  REQUIRE(calendars->size() == 2);
  for (const auto& c : *calendars) CHECK(c.writable);
  const auto it = std::find_if(calendars->begin(), calendars->end(), [&](const CalendarInfo& c) { return c.id == team; });
  REQUIRE(it != calendars->end());
  CHECK(it->displayName == "Team");
  CHECK(it->timeZone == "Europe/Berlin");
  const auto requests = s.requests();
  CHECK(count(requests, "calendar.calendarList.list") == 1);
}

TEST_CASE("a full listing: bounded by the window, the same query on every page, short and empty pages followed to the sync token",
          "[google][contract][listing]") {
  GoogleOptions o;
  o.pageSize = 4;
  Setup s({}, o);
  for (int i = 0; i < 30; ++i) s.fake.userCreates(kUser, timed("event " + std::to_string(i), "2026-06-0" + std::to_string(1 + i % 9) + "T1" + std::to_string(i % 10) + ":00:00Z"));
  s.fake.userCreates(kUser, timed("long ago", "2025-01-01T10:00:00Z"));
  s.requests();
  auto changes = s.provider->pullChanges(kUser, "", kWindow);
  REQUIRE(changes);
  CHECK(changes->complete);
  REQUIRE(changes->completeWithin);
  CHECK(changes->changed.size() == 30);
  CHECK_FALSE(byTitle(changes->changed, "long ago"));
  CHECK(changes->cursor.starts_with("g1:"));
  const auto requests = s.requests();
  REQUIRE(requests.size() > 30 / 4);
  bool shortPage = false;
  for (const auto& r : requests) {
    CHECK(r["method"] == "calendar.events.list");
    CHECK(r["status"] == 200);
    CHECK(r["query"]["timeMin"] == "2026-05-01T00:00:00Z");
    CHECK(r["query"]["timeMax"] == "2027-06-01T00:00:00Z");
    CHECK(r["query"]["maxResults"] == "4");
    CHECK(r["query"]["showDeleted"] == "true");
    CHECK_FALSE(r["query"].contains("syncToken"));
  }
  shortPage = requests.size() > 8;  // 30 events in pages of at most 4: more than 8 pages means short ones
  CHECK(shortPage);
  const auto* e = byTitle(changes->changed, "event 0");
  REQUIRE(e);
  CHECK_FALSE(e->id.empty());
  CHECK_FALSE(e->etag.empty());
  CHECK(e->uid == e->id + "@google.com");
}

TEST_CASE("incremental: the sync token, changes and deletions; a deleted event's sparse item is a removal",
          "[google][contract][listing]") {
  Setup s;
  const auto kept = s.fake.userCreates(kUser, timed("kept", "2026-06-02T10:00:00Z"));
  const auto gone = s.fake.userCreates(kUser, timed("gone", "2026-06-03T10:00:00Z"));
  auto first = s.provider->pullChanges(kUser, "", kWindow);
  REQUIRE(first);
  s.fake.userEdits(kUser, kept["id"], {{"summary", "kept, renamed"}});
  s.fake.userDeletes(kUser, gone["id"]);
  s.fake.userCreates(kUser, timed("far future", "2030-01-01T10:00:00Z"));
  s.requests();
  auto next = s.provider->pullChanges(kUser, first->cursor, kWindow);
  REQUIRE(next);
  CHECK_FALSE(next->complete);
  CHECK(next->removed == std::vector<std::string>{gone["id"].get<std::string>()});
  REQUIRE(byTitle(next->changed, "kept, renamed"));
  CHECK(byTitle(next->changed, "far future"));  // incremental rounds report changes wherever they are
  for (const auto& r : s.requests()) {
    CHECK(r["query"].contains("syncToken"));
    CHECK_FALSE(r["query"].contains("timeMin"));
  }
  auto quiet = s.provider->pullChanges(kUser, next->cursor, kWindow);
  REQUIRE(quiet);
  CHECK(quiet->changed.empty());
  CHECK(quiet->removed.empty());
}

TEST_CASE("an expired sync token (410) or one Google calls invalid (400) starts a complete listing", "[google][contract][listing]") {
  Setup s;
  s.fake.userCreates(kUser, timed("one", "2026-06-02T10:00:00Z"));
  auto first = s.provider->pullChanges(kUser, "", kWindow);
  REQUIRE(first);
  s.fake.expireSyncTokens(kUser);
  s.requests();
  auto again = s.provider->pullChanges(kUser, first->cursor, kWindow);
  REQUIRE(again);
  CHECK(again->complete);
  CHECK(again->changed.size() == 1);
  auto requests = s.requests();
  REQUIRE(requests.size() >= 2);
  CHECK(requests[0]["status"] == 410);
  CHECK(requests[1]["query"].contains("timeMin"));
  auto forged = s.provider->pullChanges(kUser, "g1:CPjflvfe1YEDEPjflvfe1YEDGAUg0_uyjwI=", kWindow);
  REQUIRE(forged);
  CHECK(forged->complete);
  CHECK(s.requests()[0]["status"] == 400);
}

TEST_CASE("a failed listing is an error, never an empty calendar; 5xx are retried with backoff first", "[google][contract][limits]") {
  Setup s;
  s.fake.userCreates(kUser, timed("one", "2026-06-02T10:00:00Z"));
  s.fake.faults(json::array({{{"method", "calendar.events.list"}, {"status", 500}, {"times", 2}}}));
  auto retried = s.provider->pullChanges(kUser, "", kWindow);
  REQUIRE(retried);
  CHECK(retried->changed.size() == 1);
  REQUIRE(s.sleeps.size() == 2);
  CHECK(s.sleeps[1] <= GoogleOptions{}.maxBackoff);
  s.fake.faults(json::array({{{"method", "calendar.events.list"}, {"status", 500}, {"times", 10}}}));
  auto failed = s.provider->pullChanges(kUser, "", kWindow);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().code == core::ErrorCode::Unavailable);
  CHECK(failed.error().retryAfter);
}

TEST_CASE("rate limits (403 and 429) are retried in the call, then RateLimited; a spent quota is not retried",
          "[google][contract][limits]") {
  Setup s;
  s.fake.faults(json::array({{{"status", 429}, {"times", 1}}, {{"status", 403}, {"reason", "userRateLimitExceeded"}, {"domain", "usageLimits"}, {"times", 1}}}));
  auto ok = s.provider->listCalendars();
  REQUIRE(ok);
  CHECK(s.sleeps.size() == 2);
  s.fake.faults(json::array({{{"status", 403}, {"times", 20}}}));
  auto limited = s.provider->listCalendars();
  REQUIRE_FALSE(limited);
  CHECK(limited.error().code == core::ErrorCode::RateLimited);
  CHECK(limited.error().retryAfter);
  s.fake.faults(json::array({{{"status", 403}, {"reason", "quotaExceeded"}, {"domain", "usageLimits"}, {"times", 1}}}));
  s.requests();
  auto quota = s.provider->listCalendars();
  REQUIRE_FALSE(quota);
  CHECK(quota.error().code == core::ErrorCode::RateLimited);
  CHECK(quota.error().cause == core::Cause::QuotaExceeded);
  CHECK(quota.error().retryAfter == GoogleOptions{}.quotaRetryAfter);
  CHECK(s.requests().size() == 1);
}

TEST_CASE("a 401 drops the access token and retries once with a new one", "[google][contract]") {
  Setup s;
  s.fake.control("POST", "users/" + test::GoogleFake::encoded(kUser) + "/expire-access-tokens", json::object());
  auto ok = s.provider->listCalendars();
  REQUIRE(ok);
  CHECK(s.tokens->rejections == 1);
}

TEST_CASE("a series: master and changed occurrences; cancelled occurrences as EXDATE lines; an incremental change re-reads it",
          "[google][contract][series]") {
  Setup s;
  auto weekly = timed("weekly", "2026-06-01T09:00:00+02:00", 60, "Europe/Berlin");
  weekly["recurrence"] = {"RRULE:FREQ=WEEKLY;COUNT=5"};
  const auto master = s.fake.userCreates(kUser, weekly);
  const std::string id = master["id"];
  s.fake.userEdits(kUser, id + "_20260608T070000Z", {{"summary", "moved"}, {"start", {{"dateTime", "2026-06-09T11:00:00+02:00"}, {"timeZone", "Europe/Berlin"}}},
                                                     {"end", {{"dateTime", "2026-06-09T12:00:00+02:00"}, {"timeZone", "Europe/Berlin"}}}});
  s.fake.userDeletes(kUser, id + "_20260615T070000Z");
  auto full = s.provider->pullChanges(kUser, "", kWindow);
  REQUIRE(full);
  REQUIRE(full->changed.size() == 2);
  const Event& m = full->changed[0];
  CHECK(m.id == id);
  CHECK_FALSE(m.recurrenceId);
  CHECK(std::find(m.recurrence.begin(), m.recurrence.end(), "EXDATE;TZID=Europe/Berlin:20260615T090000") != m.recurrence.end());
  const Event& o = full->changed[1];
  CHECK(o.id == id);
  CHECK(o.seriesId == id);
  CHECK(o.uid == m.uid);
  CHECK(o.title == "moved");
  REQUIRE(o.recurrenceId);
  CHECK(std::get<ZonedTime>(*o.recurrenceId).instant == sys_days{2026y / June / 8} + 7h);
  s.fake.userDeletes(kUser, id + "_20260622T070000Z");
  s.requests();
  auto next = s.provider->pullChanges(kUser, full->cursor, kWindow);
  REQUIRE(next);
  REQUIRE(next->changed.size() == 2);
  CHECK(std::count_if(next->changed[0].recurrence.begin(), next->changed[0].recurrence.end(),
                      [](const std::string& l) { return l.starts_with("EXDATE"); }) == 2);
  const auto requests = s.requests();
  CHECK(count(requests, "calendar.events.get") == 1);
  bool byUid = false;
  for (const auto& r : requests) byUid = byUid || r["query"].contains("iCalUID");
  CHECK(byUid);
  s.fake.userDeletes(kUser, id);
  auto removed = s.provider->pullChanges(kUser, next->cursor, kWindow);
  REQUIRE(removed);
  CHECK(std::find(removed->removed.begin(), removed->removed.end(), id) != removed->removed.end());
  CHECK(removed->changed.empty());
}

TEST_CASE("birthdays and working locations are not copied; focus time and out of office are", "[google][contract][mapping]") {
  Setup s;
  for (const std::string type : {"birthday", "workingLocation", "focusTime", "outOfOffice"}) {
    auto e = timed(type, "2026-06-02T10:00:00Z");
    e["eventType"] = type;
    s.fake.userCreates(kUser, e);
  }
  auto changes = s.provider->pullChanges(kUser, "", kWindow);
  REQUIRE(changes);
  CHECK_FALSE(byTitle(changes->changed, "birthday"));
  CHECK_FALSE(byTitle(changes->changed, "workingLocation"));
  REQUIRE(byTitle(changes->changed, "focusTime"));
  CHECK(byTitle(changes->changed, "focusTime")->showAs == ShowAs::Busy);
  REQUIRE(byTitle(changes->changed, "outOfOffice"));
  CHECK(byTitle(changes->changed, "outOfOffice")->showAs == ShowAs::OutOfOffice);
}

TEST_CASE("create: the copy's id comes from its UID; a retry after a crash finds it instead of a duplicate",
          "[google][contract][writes]") {
  Setup s;
  const auto write = approve(sourceEvent("Planning"), kUser);
  auto created = s.provider->create(kUser, write);
  REQUIRE(created);
  CHECK(created->id == eventIdFor(write.event().uid));
  CHECK_FALSE(created->existed);
  auto again = s.provider->create(kUser, write);
  REQUIRE(again);
  CHECK(again->existed);
  CHECK(again->id == created->id);
  CHECK(s.fake.events(kUser).size() == 1);
  const auto requests = s.requests();
  for (const auto& r : requests) {
    if (r["method"] == "calendar.events.insert") CHECK(r["query"]["sendUpdates"] == "none");
  }
  CHECK(count(requests, "calendar.events.insert") == 2);
  const auto stored = s.fake.events(kUser)[0];
  CHECK(stored["extendedProperties"]["private"][std::string(kOriginPairKey)] == "pr_google_test");
  CHECK_FALSE(stored.contains("attendees"));
}

TEST_CASE("update: PATCH with If-Match; a stale ETag (412) re-reads and writes once more; the user's own fields survive",
          "[google][contract][writes]") {
  Setup s;
  auto created = s.provider->create(kUser, approve(sourceEvent("Planning"), kUser));
  REQUIRE(created);
  s.fake.userEdits(kUser, created->id, {{"colorId", "5"}});
  Event changed = sourceEvent("Planning");
  changed.title = "Planning (moved)";
  changed.description.clear();
  s.requests();
  auto updated = s.provider->update(kUser, created->id, created->etag, approve(changed, kUser));
  REQUIRE(updated);
  const auto requests = s.requests();
  REQUIRE(requests.size() == 3);
  CHECK(requests[0]["status"] == 412);
  CHECK(requests[0]["ifMatch"] == created->etag);
  CHECK(requests[1]["method"] == "calendar.events.get");
  CHECK(requests[2]["status"] == 200);
  const auto stored = s.fake.events(kUser)[0];
  CHECK(stored["summary"] == "Planning (moved)");
  CHECK_FALSE(stored.contains("description"));
  CHECK(stored["colorId"] == "5");
  CHECK(updated->etag == stored["etag"]);
}

TEST_CASE("delete: with If-Match; an event already deleted (410) is done", "[google][contract][writes]") {
  Setup s;
  const auto source = sourceEvent("Planning");
  auto created = s.provider->create(kUser, approve(source, kUser));
  REQUIRE(created);
  REQUIRE(s.provider->remove(kUser, created->id, created->etag, approve(source, kUser, true)));
  CHECK(s.fake.events(kUser)[0]["status"] == "cancelled");
  s.requests();
  REQUIRE(s.provider->remove(kUser, created->id, created->etag, approve(source, kUser, true)));
  CHECK(s.requests()[0]["status"] == 410);
}

TEST_CASE("occurrences are written through their instance id: an override is a PATCH, a cancellation a DELETE",
          "[google][contract][writes][series]") {
  Setup s;
  Event series = sourceEvent("Weekly", 1);
  series.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=4"};
  auto created = s.provider->create(kUser, approve(series, kUser));
  REQUIRE(created);
  Event moved = series;
  moved.recurrence.clear();
  moved.title = "Weekly (moved)";
  moved.recurrenceId = *zonedFromLocal(local_days{2026y / June / 8} + 14h, "Europe/Berlin");
  moved.start = *zonedFromLocal(local_days{2026y / June / 9} + 16h, "Europe/Berlin");
  moved.end = *zonedFromLocal(local_days{2026y / June / 9} + 17h, "Europe/Berlin");
  auto written = s.provider->create(kUser, approve(moved, kUser));
  REQUIRE(written);
  CHECK(written->id == created->id);
  Event cancelled = series;
  cancelled.recurrence.clear();
  cancelled.recurrenceId = *zonedFromLocal(local_days{2026y / June / 15} + 14h, "Europe/Berlin");
  REQUIRE(s.provider->remove(kUser, created->id, "", approve(cancelled, kUser, true)));
  const auto stored = s.fake.events(kUser);
  std::map<std::string, json> byId;
  for (const auto& e : stored) byId[e["id"]] = e;
  REQUIRE(byId.contains(created->id + "_20260608T120000Z"));
  CHECK(byId[created->id + "_20260608T120000Z"]["summary"] == "Weekly (moved)");
  REQUIRE(byId.contains(created->id + "_20260615T120000Z"));
  CHECK(byId[created->id + "_20260615T120000Z"]["status"] == "cancelled");
  auto read = s.provider->getEvent(kUser, created->id);
  REQUIRE(read);
  REQUIRE(read->size() == 2);
  CHECK((*read)[1].title == "Weekly (moved)");
}

TEST_CASE("a write approved for another calendar or another event is refused before any request", "[google][contract][binding]") {
  Setup s;
  const auto write = approve(sourceEvent("Planning"), kUser);
  s.requests();
  auto elsewhere = s.provider->create("other@group.calendar.google.com", write);
  REQUIRE_FALSE(elsewhere);
  CHECK(elsewhere.error().cause == core::Cause::WrongResource);
  auto someoneElses = s.provider->update(kUser, "abcdefghij", "", write);
  REQUIRE_FALSE(someoneElses);
  CHECK(someoneElses.error().cause == core::Cause::WrongResource);
  CHECK(s.requests().empty());
}

TEST_CASE("a listing above the event budget fails (BudgetExceeded), it is never cut short", "[google][contract][limits]") {
  GoogleOptions o;
  o.maxPullEvents = 3;
  Setup s({}, o);
  for (int i = 0; i < 5; ++i) s.fake.userCreates(kUser, timed("e" + std::to_string(i), "2026-06-02T1" + std::to_string(i) + ":00:00Z"));
  auto r = s.provider->pullChanges(kUser, "", kWindow);
  REQUIRE_FALSE(r);
  CHECK(r.error().cause == core::Cause::BudgetExceeded);
}

TEST_CASE("a copy reads back with the UID calgate gave it; a series has one ETag that any of its parts changes",
          "[google][contract][series]") {
  Setup s;
  Event series = sourceEvent("Weekly", 1);
  series.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=4"};
  const auto write = approve(series, kUser);
  auto created = s.provider->create(kUser, write);
  REQUIRE(created);
  auto read = s.provider->getEvent(kUser, created->id);
  REQUIRE(read);
  REQUIRE(read->size() == 1);
  CHECK(read->front().uid == write.event().uid);
  CHECK(read->front().etag == created->etag);  // what the engine records is what a listing shows
  CHECK(created->etag.starts_with("\"s-"));
  s.fake.userEdits(kUser, created->id + "_20260615T120000Z", {{"summary", "changed by the user"}});
  auto after = s.provider->getEvent(kUser, created->id);
  REQUIRE(after);
  REQUIRE(after->size() == 2);
  CHECK((*after)[0].etag != created->etag);
  CHECK((*after)[0].etag == (*after)[1].etag);
}

TEST_CASE("a calendar shared read-only is listed as not writable and can still be a source", "[google][contract]") {
  Setup s;
  s.fake.addUser("bob@example.com");
  const auto shared = s.fake.addCalendar("bob@example.com", "Bob's", "UTC");
  s.fake.userCreates(shared, timed("Bob's meeting", "2026-06-03T10:00:00Z"));
  s.fake.control("POST", "calendars/" + test::GoogleFake::encoded(shared) + "/share", {{"user", kUser}, {"role", "reader"}});
  auto calendars = s.provider->listCalendars();
  REQUIRE(calendars);
  const auto it = std::find_if(calendars->begin(), calendars->end(), [&](const CalendarInfo& c) { return c.id == shared; });
  REQUIRE(it != calendars->end());
  CHECK_FALSE(it->writable);
  auto changes = s.provider->pullChanges(shared, "", kWindow);
  REQUIRE(changes);
  CHECK(byTitle(changes->changed, "Bob's meeting"));
  auto refused = s.provider->create(shared, approve(sourceEvent("Planning"), shared));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().cause == core::Cause::WriteRefused);
}

TEST_CASE("a first sync of many events is paced below the per-user rate: waits instead of 403s", "[google][contract][limits]") {
  // the fake allows 60 requests per user and minute on its (frozen) clock; the adapter paces to 50
  // and its waits move both clocks
  test::GoogleFake fake(std::map<std::string, std::string>{{"userRatePerMinute", "60"}});
  fake.addUser(kUser, "acme.example");
  fake.clock({{"now", "2026-06-01T00:00:00Z"}, {"frozen", true}});
  test::FakeTokens tokens(fake, kUser);
  auto clock = test::FakeClock::at(2026y / June / 1);
  std::vector<milliseconds> waits;
  GoogleOptions o;
  o.requestsPerMinute = 50;
  o.sleep = [&](milliseconds d) {
    waits.push_back(d);
    clock.advance(d);
    fake.clock({{"advanceMs", d.count()}});
  };
  CurlHttpClient http{test::GoogleFake::httpOptions()};
  GoogleProvider provider(http, tokens, clock, GoogleEndpoints{fake.url}, o);
  for (int i = 0; i < 120; ++i) {
    Event e = sourceEvent("Event " + std::to_string(i), 1 + i % 28);
    REQUIRE(provider.create(kUser, approve(e, kUser)));
  }
  CHECK(fake.events(kUser).size() == 120);
  CHECK(waits.size() >= 2);
  const auto requests = fake.state()["requests"];
  CHECK(std::none_of(requests.begin(), requests.end(), [](const json& r) { return r["status"] == 403 || r["status"] == 429; }));
}

TEST_CASE("batched writes: plain creates, updates and deletes are the parts of one batch request each",
          "[google][contract][writes][batch]") {
  Setup s;
  std::vector<policy::ApprovedWrite> creates, updates, removals;
  for (int i = 0; i < 5; ++i) {
    Event e = sourceEvent("Item " + std::to_string(i), 3 + i);
    creates.push_back(approve(e, kUser));
    e.title += " (moved)";
    updates.push_back(approve(e, kUser));
    removals.push_back(approve(e, kUser, true));
  }
  const std::size_t before = s.provider->requestCount();
  const auto copies = written(s.provider->writeBatch(kUser, batchOf(BatchedWrite::Op::Create, creates)));
  CHECK(s.provider->requestCount() - before == 2);  // the calendar's zone, then one batch
  for (std::size_t i = 0; i < copies.size(); ++i) {
    CHECK(copies[i].id == eventIdFor(creates[i].event().uid));
    CHECK_FALSE(copies[i].existed);
  }
  REQUIRE(s.fake.events(kUser).size() == 5);

  const auto changed = written(s.provider->writeBatch(kUser, batchOf(BatchedWrite::Op::Update, updates, copies)));
  for (const auto& e : s.fake.events(kUser)) CHECK_THAT(e["summary"].get<std::string>(), Catch::EndsWith("(moved)"));
  for (std::size_t i = 0; i < changed.size(); ++i) CHECK(changed[i].etag != copies[i].etag);
  written(s.provider->writeBatch(kUser, batchOf(BatchedWrite::Op::Remove, removals, changed)));
  for (const auto& e : s.fake.events(kUser)) CHECK(e["status"] == "cancelled");

  const auto state = s.fake.state();
  REQUIRE(state["batches"].size() == 3);
  for (const auto& b : state["batches"]) CHECK(b["parts"] == 5);
  const auto requests = s.requests();
  CHECK(count(requests, "calendar.events.insert") == 5);
  CHECK(count(requests, "calendar.events.patch") == 5);
  CHECK(count(requests, "calendar.events.delete") == 5);
  for (const auto& r : requests) {
    if (r["method"] == "calendar.events.get") FAIL("a batch part needed a read: " << r.dump());
    if (r["method"] == "calendar.events.patch" || r["method"] == "calendar.events.delete") {
      CHECK(r["query"]["sendUpdates"] == "none");
      CHECK_FALSE(r["ifMatch"].get<std::string>().empty());  // each part carries its copy's ETag
    }
  }
  CHECK(s.provider->requestCount() - before == 4);
}

TEST_CASE("batched writes: a part that meets 409, 412 or a rate limit is done on its own; a series is never a part",
          "[google][contract][writes][batch]") {
  Setup s;
  const auto kept = approve(sourceEvent("Already there", 2), kUser);
  auto existing = s.provider->create(kUser, kept);  // an earlier run wrote it, then crashed
  REQUIRE(existing);
  const auto edited = approve(sourceEvent("Edited by the user", 4), kUser);
  auto stale = s.provider->create(kUser, edited);
  REQUIRE(stale);
  s.fake.userEdits(kUser, stale->id, {{"colorId", "3"}});  // its ETag moved on
  Event weekly = sourceEvent("Weekly", 1);
  weekly.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=4"};
  const auto series = approve(weekly, kUser);
  const auto fresh = approve(sourceEvent("New", 6), kUser);
  const auto limited = approve(sourceEvent("Rate limited", 8), kUser);
  s.requests();
  // the first insert (the batch's first part, below) is told to slow down once
  s.fake.faults(json::array({{{"method", "calendar.events.insert"}, {"status", 429}, {"times", 1}}}));
  std::vector<BatchedWrite> writes{{BatchedWrite::Op::Create, "", "", &limited},
                                   {BatchedWrite::Op::Create, "", "", &kept},
                                   {BatchedWrite::Op::Update, stale->id, stale->etag, &edited},
                                   {BatchedWrite::Op::Create, "", "", &series},
                                   {BatchedWrite::Op::Create, "", "", &fresh}};
  auto results = s.provider->writeBatch(kUser, writes);
  REQUIRE(results);
  REQUIRE(results->size() == 5);
  for (const auto& r : *results) REQUIRE(r);
  CHECK_FALSE((*results)[0]->existed);
  CHECK((*results)[1]->existed);  // 409 in the batch, then found on its own: the engine updates it
  CHECK((*results)[1]->id == existing->id);
  CHECK_THAT((*results)[3]->etag, Catch::StartsWith("\"s-"));  // a series' own ETag, read after its write
  CHECK_FALSE((*results)[4]->existed);
  const auto state = s.fake.state();
  REQUIRE(state["batches"].size() == 1);
  CHECK(state["batches"][0]["parts"] == 4);  // the series went on its own
  const auto events = s.fake.events(kUser);
  CHECK(events.size() == 5);
  for (const auto& e : events) {
    if (e["id"] == stale->id) {
      CHECK(e["summary"] == "Edited by the user");
      CHECK(e["colorId"] == "3");  // the 412 was re-read and written over once, the user's colour kept
    }
  }
  const auto requests = s.requests();
  CHECK(std::count_if(requests.begin(), requests.end(), [](const json& r) { return r["status"] == 412; }) == 2);
  CHECK(std::count_if(requests.begin(), requests.end(), [](const json& r) { return r["status"] == 429; }) == 1);
  CHECK(std::count_if(requests.begin(), requests.end(), [](const json& r) { return r["status"] == 409; }) == 2);
}

TEST_CASE("two adapters of one account share its pace: together they stay below the per-user rate",
          "[google][contract][limits]") {
  // two pairs of one account syncing at once: each adapter alone would pace to 50 a minute, 100
  // together, and meet the fake's 60; sharing the account's pacer they wait instead
  test::GoogleFake fake(std::map<std::string, std::string>{{"userRatePerMinute", "60"}});
  fake.addUser(kUser, "acme.example");
  fake.clock({{"now", "2026-06-01T00:00:00Z"}, {"frozen", true}});
  test::FakeTokens tokens(fake, kUser);
  auto clock = test::FakeClock::at(2026y / June / 1);
  GoogleOptions o;
  o.requestsPerMinute = 50;
  o.batchSize = 1;
  o.pacer = sharedPacer("google:two-adapters-test", o.requestsPerMinute);
  std::size_t waits = 0;
  o.sleep = [&](milliseconds d) {
    ++waits;
    clock.advance(d);
    fake.clock({{"advanceMs", d.count()}});
  };
  CurlHttpClient http{test::GoogleFake::httpOptions()};
  GoogleProvider first(http, tokens, clock, GoogleEndpoints{fake.url}, o);
  GoogleProvider second(http, tokens, clock, GoogleEndpoints{fake.url}, o);
  for (int i = 0; i < 120; ++i) {
    Event e = sourceEvent("Event " + std::to_string(i), 1 + i % 28);
    REQUIRE((i % 2 ? second : first).create(kUser, approve(e, kUser)));
  }
  CHECK(fake.events(kUser).size() == 120);
  CHECK(waits >= 2);
  const auto requests = fake.state()["requests"];
  CHECK(std::none_of(requests.begin(), requests.end(), [](const json& r) { return r["status"] == 403 || r["status"] == 429; }));
}

namespace {

Event outOfOffice(const std::string& title, int day = 10) {
  Event e = sourceEvent(title, day);
  e.showAs = ShowAs::OutOfOffice;
  return e;
}

GoogleOptions withStatusEvents() {
  GoogleOptions o;
  o.statusEvents = true;
  return o;
}

}  // namespace

TEST_CASE("out of office: a Workspace account's primary calendar gets a real out-of-office copy under its own id",
          "[google][contract][writes][status]") {
  Setup s({}, withStatusEvents());
  const auto oof = approve(outOfOffice("Away"), kUser);
  auto created = s.provider->create(kUser, oof);
  REQUIRE(created);
  CHECK(created->id == eventIdFor(oof.event().uid) + "oo");
  REQUIRE(s.fake.events(kUser).size() == 1);
  const auto stored = s.fake.events(kUser)[0];
  CHECK(stored["eventType"] == "outOfOffice");
  CHECK(stored["outOfOfficeProperties"]["autoDeclineMode"] == "declineNone");
  // it reads back as out of office, with the UID calgate gave it
  auto listed = s.provider->pullChanges(kUser, "", kWindow);
  REQUIRE(listed);
  REQUIRE(byTitle(listed->changed, "Away"));
  CHECK(byTitle(listed->changed, "Away")->showAs == ShowAs::OutOfOffice);
  CHECK(byTitle(listed->changed, "Away")->uid == oof.event().uid);
  // a retry after a crash finds it
  auto again = s.provider->create(kUser, oof);
  REQUIRE(again);
  CHECK(again->existed);
  CHECK(again->id == created->id);
  CHECK(s.fake.events(kUser).size() == 1);

  // the source turns busy: Google cannot change the type, so the copy must be replaced ...
  const auto busy = approve(sourceEvent("Away"), kUser);
  CHECK(s.provider->replacesOnUpdate(kUser, created->id, busy));
  CHECK_FALSE(s.provider->replacesOnUpdate(kUser, created->id, oof));
  // ... by an ordinary copy under the plain id, which is not replaced again while busy
  auto ordinary = s.provider->create(kUser, busy);
  REQUIRE(ordinary);
  CHECK(ordinary->id == eventIdFor(busy.event().uid));
  CHECK_FALSE(s.provider->replacesOnUpdate(kUser, ordinary->id, busy));
  CHECK(s.provider->replacesOnUpdate(kUser, ordinary->id, oof));
  // an id that is not calgate's copy of this event is never "replaced" (the write is refused instead)
  CHECK_FALSE(s.provider->replacesOnUpdate(kUser, "someoneelse123", oof));
}

TEST_CASE("out of office: ordinary copies where status events do not exist (all day, series, secondary calendar, consumer)",
          "[google][contract][writes][status]") {
  SECTION("an account without status events (no Workspace domain proven): always an ordinary busy copy") {
    Setup s;
    const auto oof = approve(outOfOffice("Away"), kUser);
    auto created = s.provider->create(kUser, oof);
    REQUIRE(created);
    CHECK(created->id == eventIdFor(oof.event().uid));
    CHECK(s.fake.events(kUser)[0].value("eventType", "default") == "default");
    CHECK(s.fake.events(kUser)[0]["transparency"] != "transparent");
    CHECK_FALSE(s.provider->replacesOnUpdate(kUser, created->id, oof));
  }
  SECTION("a secondary calendar, an all-day absence and a series stay ordinary events") {
    Setup s({}, withStatusEvents());
    const std::string team = s.fake.addCalendar(kUser, "Team");
    auto onTeam = s.provider->create(team, approve(outOfOffice("Away"), team));
    REQUIRE(onTeam);
    CHECK(s.fake.events(team)[0].value("eventType", "default") == "default");
    Event allDay = outOfOffice("Holiday");
    allDay.start = Date{2026y / June / 12};
    allDay.end = Date{2026y / June / 13};
    const auto holidayWrite = approve(allDay, kUser);
    auto holiday = s.provider->create(kUser, holidayWrite);
    REQUIRE(holiday);
    CHECK(holiday->id == eventIdFor(holidayWrite.event().uid));
    Event weekly = outOfOffice("Fridays off", 5);
    weekly.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=3"};
    REQUIRE(s.provider->create(kUser, approve(weekly, kUser)));
    for (const auto& e : s.fake.events(kUser)) CHECK(e.value("eventType", "default") == "default");
    // none of them was first tried as out of office (a refused try would be a fourth insert)
    CHECK(count(s.requests(), "calendar.events.insert") == 3);
  }
  SECTION("Google refuses the out-of-office event (no Workspace user after all): an ordinary copy, and no more tries") {
    Setup s({}, withStatusEvents());
    s.fake.addUser("pat@gmail.com");
    test::FakeTokens patTokens(s.fake, "pat@gmail.com");
    GoogleOptions o = withStatusEvents();
    o.sleep = [](milliseconds) {};
    GoogleProvider pat(s.http, patTokens, core::systemClock(), GoogleEndpoints{s.fake.url}, o);
    const std::string calendar = "pat@gmail.com";
    const auto oof = approve(outOfOffice("Away"), calendar);
    s.requests();  // what setting up did
    auto created = pat.create(calendar, oof);
    REQUIRE(created);
    CHECK(created->id == eventIdFor(oof.event().uid));
    REQUIRE(s.fake.events(calendar).size() == 1);
    CHECK(s.fake.events(calendar)[0].value("eventType", "default") == "default");
    CHECK(count(s.requests(), "calendar.events.insert") == 2);  // refused once, then the ordinary copy
    // the next out-of-office copy goes straight to an ordinary event
    REQUIRE(pat.create(calendar, approve(outOfOffice("Away again", 11), calendar)));
    CHECK(count(s.requests(), "calendar.events.insert") == 1);
    CHECK_FALSE(pat.replacesOnUpdate(calendar, created->id, oof));
  }
}

TEST_CASE("out of office in a batch: the part carries the type and the copy's own id", "[google][contract][writes][status][batch]") {
  Setup s({}, withStatusEvents());
  std::vector<policy::ApprovedWrite> creates{approve(outOfOffice("Away"), kUser), approve(sourceEvent("Planning", 11), kUser)};
  const auto copies = written(s.provider->writeBatch(kUser, batchOf(BatchedWrite::Op::Create, creates)));
  REQUIRE(copies.size() == 2);
  CHECK(copies[0].id == eventIdFor(creates[0].event().uid) + "oo");
  CHECK(copies[1].id == eventIdFor(creates[1].event().uid));
  REQUIRE(s.fake.state()["batches"].size() == 1);
  std::map<std::string, std::string> types;
  for (const auto& e : s.fake.events(kUser)) types[e["id"]] = e.value("eventType", "default");
  CHECK(types[copies[0].id] == "outOfOffice");
  CHECK(types[copies[1].id] == "default");
}

TEST_CASE("push: events.watch opens a web_hook channel with calgate's id, token and lifetime; channels.stop closes it",
          "[google][contract][push]") {
  // nothing listens at the address: the fake's first ("sync") delivery fails without retries
  Setup s(std::map<std::string, std::string>{{"deliveryRetries", "0"}});
  test::FakeClock clock = test::FakeClock::at(2026y / June / 1, 0h);
  GoogleProvider provider(s.http, *s.tokens, clock, GoogleEndpoints{s.fake.url}, GoogleOptions{});
  WatchRequest request{"ch_0123456789abcdef", "https://127.0.0.1:9/webhooks/google", "t0ken-secret",
                       sys_seconds(sys_days{2026y / June / 7})};
  auto w = provider.watch(kUser, request);
  REQUIRE(w);
  CHECK(w->channelId == request.channelId);
  CHECK_FALSE(w->resourceId.empty());
  CHECK(w->expiresAt == request.expiresAt);
  auto state = s.fake.state();
  REQUIRE(state["channels"].size() == 1);
  CHECK(state["channels"][0]["address"] == request.address);
  CHECK(state["channels"][0]["hasToken"] == true);
  CHECK(state["channels"][0]["expiration"] == 1780790400000LL);  // asked for, in ms
  CHECK(state["deliveries"][0]["state"] == "sync");

  // Google shortens a lifetime beyond its maximum: the granted one counts
  request.channelId = "ch_long";
  request.expiresAt = sys_seconds(sys_days{2026y / July / 1});
  auto longer = provider.watch(kUser, request);
  REQUIRE(longer);
  CHECK(longer->expiresAt == sys_seconds(sys_days{2026y / June / 8}));

  REQUIRE(provider.unwatch(*w));
  state = s.fake.state();
  CHECK(state["channels"][0]["stopped"] == true);
  CHECK(provider.unwatch(*w));  // gone already: done
  CHECK(count(s.requests(), "calendar.channels.stop") == 2);

  // refused before anything is sent: an id Google would refuse, an address that is not https
  const std::size_t before = provider.requestCount();
  CHECK_FALSE(provider.watch(kUser, {"no spaces allowed", "https://127.0.0.1:9/w", "t", request.expiresAt}));
  CHECK_FALSE(provider.watch(kUser, {"ch_plain", "http://127.0.0.1:9/w", "t", request.expiresAt}));
  CHECK_FALSE(provider.watch(kUser, {"ch_notoken", "https://127.0.0.1:9/w", "", request.expiresAt}));
  CHECK(provider.requestCount() == before);
  // a channel id Google saw before is refused by Google
  request.channelId = "ch_long";
  auto again = provider.watch(kUser, request);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == core::ErrorCode::Invalid);
}
