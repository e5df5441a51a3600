// Series into Microsoft 365: an RRULE written as the patternedRecurrence with exactly its
// occurrences (round trips for every pattern and range type: each occurrence in the window is
// where libical puts the source's), EXDATEs as cancelled instances, exceptions as instance
// PATCHes, and calgate's own series copies listed by their master's id; rules Outlook cannot hold
// exactly are refused with their reason.
#include "calgate/model/occurrences.hpp"
#include "calgate/providers/microsoft/graph_recurrence.hpp"
#include "calgate/providers/microsoft/graph_wire.hpp"
#include "providers/microsoft/graph_setup.hpp"

#include <catch2/catch.hpp>

using namespace calgate;
using namespace calgate::test::graph;

namespace {

Event series(const std::string& title, local_seconds start, const std::vector<std::string>& lines,
             const std::string& zone = "Europe/Berlin", minutes length = 60min) {
  Event e;
  e.uid = "src-" + title;
  e.title = title;
  e.start = *zonedFromLocal(start, zone);
  e.end = *zonedFromLocal(start + length, zone);
  e.recurrence = lines;
  return e;
}

Event allDaySeries(const std::string& title, year_month_day day, const std::vector<std::string>& lines) {
  Event e;
  e.uid = "src-" + title;
  e.title = title;
  e.start = Date{day};
  e.end = Date{year_month_day(sys_days(day) + days(1))};
  e.recurrence = lines;
  return e;
}

std::string percent(const std::string& s) { return test::FakeService::encoded(s); }

/// What Outlook shows of series `masterId` in the window, through Graph's own instances call:
/// each occurrence's start (all-day ones at midnight UTC, where calgate writes them), in order.
std::vector<sys_seconds> shownStarts(Setup& s, const std::string& masterId, const TimeWindow& w = kWindow) {
  HttpRequest r;
  r.url = s.fake.url + "v1.0/me/events/" + percent(masterId) + "/instances?startDateTime=" + percent(formatUtc(w.from)) +
          "&endDateTime=" + percent(formatUtc(w.to)) + "&$top=1000";
  r.headers = {{"Authorization", "Bearer " + s.fake.accessToken(kUser)}, {"Prefer", "outlook.timezone=\"UTC\""}};
  auto a = s.http.send(r);
  REQUIRE(a);
  INFO(a->body);
  REQUIRE(a->status == 200);
  std::vector<sys_seconds> out;
  const json answer = json::parse(a->body);
  for (const auto& item : answer["value"]) {
    auto t = readGraphTime(json{{"dateTime", item["start"]["dateTime"]}, {"timeZone", "UTC"}}, false);
    REQUIRE(t);
    out.push_back(std::get<ZonedTime>(*t).instant);
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Where libical puts the source's occurrences in the window (dates at midnight UTC).
std::vector<sys_seconds> expectedStarts(const Event& e, const TimeWindow& w = kWindow) {
  const std::vector<Event> events{e};
  auto occurrences = expandOccurrences(events, w.from, w.to, "UTC");
  REQUIRE(occurrences);
  std::vector<sys_seconds> out;
  for (const auto& o : *occurrences) out.push_back(o.startInstant);
  return out;
}

/// The copy's stored master in the fake.
json storedMaster(Setup& s, const std::string& id) {
  for (const auto& e : s.fake.events(s.calendar)) {
    if (e["id"] == id) return e;
  }
  FAIL("no master " << id);
  return {};
}

const Event* byId(const std::vector<Event>& events, const std::string& id) {
  for (const auto& e : events) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

/// The master's ETag as Graph gives it now.
std::string storedEtag(Setup& s, const std::string& id) { return "W/\"" + storedMaster(s, id)["changeKey"].get<std::string>() + "\""; }

constexpr auto at14 = [](year_month_day d) { return local_days(d) + 14h; };

}  // namespace

TEST_CASE("RRULE -> patternedRecurrence: every pattern and range type Outlook holds exactly", "[microsoft][series]") {
  auto pattern = [](const Event& e, std::string_view zone = "W. Europe Standard Time") {
    auto p = patternedRecurrenceFor(e, zone);
    INFO((p ? "" : p.error().message));
    REQUIRE(p);
    return *p;
  };
  const auto wed = at14(2026y / June / 10);  // the second Wednesday of June 2026
  auto p = pattern(series("daily", wed, {"RRULE:FREQ=DAILY;INTERVAL=2;COUNT=10"}));
  CHECK(p["pattern"] == json{{"type", "daily"}, {"interval", 2}});
  CHECK(p["range"] == json{{"type", "numbered"}, {"numberOfOccurrences", 10}, {"startDate", "2026-06-10"},
                           {"recurrenceTimeZone", "W. Europe Standard Time"}});
  p = pattern(series("weekdays", wed, {"RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR"}));
  CHECK(p["pattern"]["type"] == "weekly");
  CHECK(p["pattern"]["daysOfWeek"] == json{"monday", "tuesday", "wednesday", "thursday", "friday"});
  CHECK(p["range"]["type"] == "noEnd");
  p = pattern(series("weekly", wed, {"RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;WKST=SU;UNTIL=20260930T115959Z"}));
  CHECK(p["pattern"] == json{{"type", "weekly"}, {"interval", 2}, {"daysOfWeek", {"monday", "wednesday", "friday"}}, {"firstDayOfWeek", "sunday"}});
  // UNTIL 13:59:59 in Berlin on the 30th: that day's 14:00 occurrence is not in the series
  CHECK(p["range"]["type"] == "endDate");
  CHECK(p["range"]["endDate"] == "2026-09-29");
  p = pattern(series("weekly until", wed, {"RRULE:FREQ=WEEKLY;UNTIL=20260930T120000Z"}));
  CHECK(p["range"]["endDate"] == "2026-09-30");  // 14:00 in Berlin: included
  CHECK(p["pattern"]["daysOfWeek"] == json{"wednesday"});
  p = pattern(series("monthly", wed, {"RRULE:FREQ=MONTHLY;BYMONTHDAY=10;UNTIL=20270101"}));
  CHECK(p["pattern"] == json{{"type", "absoluteMonthly"}, {"interval", 1}, {"dayOfMonth", 10}});
  CHECK(p["range"]["endDate"] == "2027-01-01");
  p = pattern(series("second Wednesday", wed, {"RRULE:FREQ=MONTHLY;BYDAY=2WE"}));
  CHECK(p["pattern"] == json{{"type", "relativeMonthly"}, {"interval", 1}, {"daysOfWeek", {"wednesday"}}, {"index", "second"}});
  p = pattern(series("last Friday", at14(2026y / June / 26), {"RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=8"}));
  CHECK(p["pattern"]["index"] == "last");
  p = pattern(series("yearly", at14(2026y / May / 20), {"RRULE:FREQ=YEARLY"}));
  CHECK(p["pattern"] == json{{"type", "absoluteYearly"}, {"interval", 1}, {"dayOfMonth", 20}, {"month", 5}});
  p = pattern(series("third Wednesday of May", at14(2026y / May / 20), {"RRULE:FREQ=YEARLY;BYMONTH=5;BYDAY=3WE"}));
  CHECK(p["pattern"] == json{{"type", "relativeYearly"}, {"interval", 1}, {"month", 5}, {"daysOfWeek", {"wednesday"}}, {"index", "third"}});
  p = pattern(series("last weekday", at14(2026y / June / 30), {"RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"}));
  CHECK(p["pattern"] == json{{"type", "relativeMonthly"}, {"interval", 1},
                             {"daysOfWeek", {"monday", "tuesday", "wednesday", "thursday", "friday"}}, {"index", "last"}});
  p = pattern(series("last day", at14(2026y / June / 30), {"RRULE:FREQ=MONTHLY;BYMONTHDAY=-1"}));
  CHECK(p["pattern"] == json{{"type", "absoluteMonthly"}, {"interval", 1}, {"dayOfMonth", 31}});
  p = pattern(allDaySeries("all day", 2026y / June / 9, {"RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=5"}), "UTC");
  CHECK(p["range"]["startDate"] == "2026-06-09");
}

TEST_CASE("RRULE -> patternedRecurrence: what Outlook would change is refused with its reason", "[microsoft][series]") {
  const auto wed = at14(2026y / June / 10);
  const std::vector<std::pair<Event, std::string>> refused{
      {series("31st", at14(2026y / July / 31), {"RRULE:FREQ=MONTHLY;BYMONTHDAY=31"}), "after the 28th"},
      {series("leap day", at14(2028y / February / 29), {"RRULE:FREQ=YEARLY"}), "February 29"},
      {series("fifth Monday", at14(2026y / June / 29), {"RRULE:FREQ=MONTHLY;BYDAY=5MO"}), "first to fourth"},
      {series("two positions", at14(2026y / June / 1), {"RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1,2"}), "one position (BYSETPOS)"},
      {series("weekly position", wed, {"RRULE:FREQ=WEEKLY;BYDAY=WE,TH;BYSETPOS=1"}), "BYSETPOS"},
      {series("off position", wed, {"RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1"}), "would move"},
      {series("Monday or Tuesday", at14(2026y / June / 1), {"RRULE:FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=1"}), "weekdays or weekend days"},
      {series("10th of every month, yearly", wed, {"RRULE:FREQ=YEARLY;BYMONTHDAY=10"}), "every month"},
      {series("not the last day", wed, {"RRULE:FREQ=MONTHLY;BYMONTHDAY=-1"}), "would move"},
      {series("two days", wed, {"RRULE:FREQ=MONTHLY;BYDAY=2WE,2TH"}), "first of any of them"},
      {series("rdate", wed, {"RRULE:FREQ=DAILY;COUNT=3", "RDATE;TZID=Europe/Berlin:20260620T140000"}), "RDATE"},
      {series("two rules", wed, {"RRULE:FREQ=DAILY;COUNT=3", "RRULE:FREQ=WEEKLY;COUNT=3"}), "one rule"},
      {series("off day", wed, {"RRULE:FREQ=WEEKLY;BYDAY=MO"}), "would move"},
      {series("off month day", wed, {"RRULE:FREQ=MONTHLY;BYMONTHDAY=12"}), "would move"},
      {series("some months", wed, {"RRULE:FREQ=MONTHLY;BYMONTH=6,7"}), "some months"},
      {series("hourly", wed, {"RRULE:FREQ=HOURLY;COUNT=3"}), "HOURLY"},
      {series("by hour", wed, {"RRULE:FREQ=DAILY;BYHOUR=9,14"}), "BYHOUR"},
  };
  for (const auto& [e, why] : refused) {
    INFO(e.title);
    auto p = patternedRecurrenceFor(e, "W. Europe Standard Time");
    REQUIRE_FALSE(p);
    CHECK(p.error().cause == core::Cause::WriteRefused);
    CHECK_THAT(p.error().message, Catch::Contains(why));
  }
  // a zone written as UTC (no Windows name) would move the series' wall times with daylight saving
  auto drift = patternedRecurrenceFor(series("drift", wed, {"RRULE:FREQ=DAILY"}), "UTC");
  REQUIRE_FALSE(drift);
  CHECK_THAT(drift.error().message, Catch::Contains("daylight saving"));
}

TEST_CASE("EXDATEs as the original starts of calgate's copy", "[microsoft][series]") {
  auto e = series("x", at14(2026y / June / 10), {"RRULE:FREQ=DAILY;COUNT=5", "EXDATE;TZID=Europe/Berlin:20260611T140000",
                                                 "EXDATE:20260612T120000Z", "EXDATE;VALUE=DATE:20260613"});
  auto starts = cancelledStarts(e);
  REQUIRE(starts);
  CHECK(*starts == std::vector<sys_seconds>{sys_days{2026y / June / 11} + 12h, sys_days{2026y / June / 12} + 12h,
                                            sys_days{2026y / June / 13} + 12h});
  auto d = allDaySeries("d", 2026y / June / 9, {"RRULE:FREQ=DAILY;COUNT=5", "EXDATE;VALUE=DATE:20260611"});
  CHECK(*cancelledStarts(d) == std::vector<sys_seconds>{sys_days{2026y / June / 11}});
  CHECK(originalStartOf(Date{2026y / June / 11}) == sys_days{2026y / June / 11});
}

TEST_CASE("series round trips: each occurrence in the window is where the source has it, every pattern and range type",
          "[microsoft][contract][series]") {
  Setup s(kPlain);
  const std::vector<Event> cases{
      series("daily every other day, numbered", at14(2026y / June / 10), {"RRULE:FREQ=DAILY;INTERVAL=2;COUNT=10"}),
      series("weekdays, no end", at14(2026y / June / 10), {"RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR"}),
      series("weekly every other, end date before the time", at14(2026y / June / 10),
             {"RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;WKST=SU;UNTIL=20260930T115959Z"}),
      series("weekly, end date at the time", at14(2026y / June / 10), {"RRULE:FREQ=WEEKLY;UNTIL=20260930T120000Z"}),
      series("absolute monthly, end date", at14(2026y / June / 10), {"RRULE:FREQ=MONTHLY;BYMONTHDAY=10;UNTIL=20270101"}),
      series("relative monthly", at14(2026y / June / 10), {"RRULE:FREQ=MONTHLY;BYDAY=2WE"}),
      series("relative monthly, last", at14(2026y / June / 26), {"RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=8"}),
      series("absolute yearly", at14(2026y / May / 20), {"RRULE:FREQ=YEARLY"}),
      series("relative yearly", at14(2026y / May / 20), {"RRULE:FREQ=YEARLY;BYMONTH=5;BYDAY=3WE"}),
      series("across New York's clock change", local_days{2026y / October / 25} + 9h, {"RRULE:FREQ=DAILY;COUNT=14"}, "America/New_York"),
      series("every three months", at14(2026y / June / 10), {"RRULE:FREQ=MONTHLY;INTERVAL=3;COUNT=4"}),
      series("last weekday of the month", at14(2026y / June / 30), {"RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=6"}),
      series("first weekend day", at14(2026y / June / 6), {"RRULE:FREQ=MONTHLY;BYDAY=SA,SU;BYSETPOS=1;COUNT=5"}),
      series("last day of the month", at14(2026y / June / 30), {"RRULE:FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=10"}),
      series("last weekend day of May", at14(2026y / May / 31), {"RRULE:FREQ=YEARLY;BYMONTH=5;BYDAY=SA,SU;BYSETPOS=-1"}),
      allDaySeries("all-day weekly", 2026y / June / 9, {"RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=5"}),
      series("with cancellations", at14(2026y / June / 11),
             {"RRULE:FREQ=WEEKLY;COUNT=6", "EXDATE;TZID=Europe/Berlin:20260618T140000,20260702T140000"}),
  };
  for (const auto& e : cases) {
    INFO(e.title);
    auto copy = s.provider->create(s.calendar, approve(e, s.calendar));
    INFO((copy ? "" : copy.error().message));
    REQUIRE(copy);
    const auto expected = expectedStarts(e);
    REQUIRE(expected.size() >= 2);
    CHECK(shownStarts(s, copy->id) == expected);
    CHECK(copy->etag == storedEtag(s, copy->id));
  }
}

TEST_CASE("a series copy: exceptions are instance PATCHes, cancellations instance DELETEs, and it is listed by its master",
          "[microsoft][contract][series]") {
  Setup s(kPlain);
  const Event weekly = series("Standup", at14(2026y / June / 11), {"RRULE:FREQ=WEEKLY;COUNT=6", "EXDATE;TZID=Europe/Berlin:20260618T140000"});
  auto copy = s.provider->create(s.calendar, approve(weekly, s.calendar));
  REQUIRE(copy);
  CHECK(storedMaster(s, copy->id)["cancelled"] == json{"2026-06-18T12:00:00.000Z"});
  CHECK(storedMaster(s, copy->id)["recurrence"]["pattern"]["type"] == "weekly");

  // the third occurrence moved two hours later and renamed: a PATCH of that instance
  Event moved = weekly;
  moved.recurrence.clear();
  moved.recurrenceId = *zonedFromLocal(at14(2026y / June / 25), "Europe/Berlin");
  moved.title = "Standup (late)";
  moved.start = *zonedFromLocal(at14(2026y / June / 25) + 2h, "Europe/Berlin");
  moved.end = *zonedFromLocal(at14(2026y / June / 25) + 3h, "Europe/Berlin");
  s.requests();
  auto exception = s.provider->update(s.calendar, copy->id, copy->etag, approve(moved, s.calendar));
  REQUIRE(exception);
  CHECK(exception->id == copy->id);             // the series copy is one resource to the engine
  CHECK(exception->etag == storedEtag(s, copy->id));  // ... with the master's ETag
  auto requests = s.requests();
  CHECK(count(requests, "events.instances") == 1);
  CHECK(count(requests, "events.update") == 1);
  auto master = storedMaster(s, copy->id);
  REQUIRE(master["exceptions"].size() == 1);
  CHECK(master["exceptions"][0]["subject"] == "Standup (late)");
  CHECK(master["exceptions"][0]["originalStart"] == "2026-06-25T12:00:00.000Z");
  CHECK(master["extended"].size() == 2);  // the series keeps its own origin marker
  // moved again: found where the last write put it
  moved.start = *zonedFromLocal(at14(2026y / June / 26), "Europe/Berlin");
  moved.end = *zonedFromLocal(at14(2026y / June / 26) + 1h, "Europe/Berlin");
  REQUIRE(s.provider->update(s.calendar, copy->id, exception->etag, approve(moved, s.calendar)));
  CHECK(storedMaster(s, copy->id)["exceptions"].size() == 1);

  // the fourth cancelled: a DELETE of that instance; a cancelled one again is done
  Event cancelled = weekly;
  cancelled.recurrence.clear();
  cancelled.recurrenceId = *zonedFromLocal(at14(2026y / July / 2), "Europe/Berlin");
  REQUIRE(s.provider->remove(s.calendar, copy->id, "", approve(cancelled, s.calendar, true)));
  REQUIRE(s.provider->remove(s.calendar, copy->id, "", approve(cancelled, s.calendar, true)));
  CHECK(storedMaster(s, copy->id)["cancelled"].size() == 2);
  Event expected = weekly;
  expected.recurrence.push_back("EXDATE;TZID=Europe/Berlin:20260702T140000");
  std::vector<sys_seconds> starts = expectedStarts(expected);
  std::erase(starts, sys_days{2026y / June / 25} + 12h);
  starts.push_back(sys_days{2026y / June / 26} + 12h);
  std::sort(starts.begin(), starts.end());
  CHECK(shownStarts(s, copy->id) == starts);

  // a user's own series in the same calendar still reads as its occurrences
  s.fake.userCreates(s.calendar, {{"subject", "Yoga"},
                                  {"start", {{"dateTime", "2026-06-02T18:00:00"}, {"timeZone", "UTC"}}},
                                  {"end", {{"dateTime", "2026-06-02T19:00:00"}, {"timeZone", "UTC"}}},
                                  {"recurrence", {{"pattern", {{"type", "daily"}, {"interval", 1}}},
                                                  {"range", {{"type", "numbered"}, {"numberOfOccurrences", 3}, {"startDate", "2026-06-02"}}}}}});
  auto listed = s.pull();
  std::size_t yoga = 0;
  const Event* ours = nullptr;
  for (const auto& e : listed.changed) {
    if (e.title == "Yoga") ++yoga;
    if (e.id == copy->id) ours = &e;
    CHECK((e.title.find("Standup") == std::string::npos || e.id == copy->id));  // none of its occurrences
  }
  CHECK(yoga == 3);
  REQUIRE(ours);
  CHECK(ours->etag == storedEtag(s, copy->id));
  REQUIRE(ours->origin);
  CHECK(ours->origin->pairId == "pr_graph_test");

  // a user renames one occurrence of the copy: the next round lists the master with a new ETag
  const std::string before = ours->etag;
  auto third = s.provider->pullChanges(s.calendar, listed.cursor, kWindow);
  REQUIRE(third);
  for (const auto& e : third->changed) CHECK(e.id != copy->id);  // nothing changed, nothing listed
  HttpRequest r;
  r.url = s.fake.url + "v1.0/me/events/" + percent(copy->id) + "/instances?startDateTime=2026-06-11T00:00:00Z&endDateTime=2026-06-12T00:00:00Z";
  r.headers = {{"Authorization", "Bearer " + s.fake.accessToken(kUser)}};
  const auto first = json::parse(s.http.send(r)->body)["value"][0]["id"].get<std::string>();
  s.fake.userEdits(first, {{"subject", "Standup (renamed by Ada)"}});
  auto fourth = s.provider->pullChanges(s.calendar, third->cursor, kWindow);
  REQUIRE(fourth);
  const Event* again = byId(fourth->changed, copy->id);
  REQUIRE(again);
  CHECK(again->etag != before);

  // the user deletes the whole series copy: the next incremental round removes the master's id
  s.fake.userDeletes(copy->id);
  auto fifth = s.provider->pullChanges(s.calendar, fourth->cursor, kWindow);
  REQUIRE(fifth);
  CHECK(std::find(fifth->removed.begin(), fifth->removed.end(), copy->id) != fifth->removed.end());
  for (const auto& e : fifth->changed) CHECK(e.id != copy->id);
}

TEST_CASE("a user's series are read once: the cursor remembers which masters are not calgate's", "[microsoft][contract][series]") {
  Setup s(kPlain);
  for (const std::string title : {"Yoga", "Choir", "Chess"}) {
    s.fake.userCreates(s.calendar, {{"subject", title},
                                    {"start", {{"dateTime", "2026-06-02T18:00:00"}, {"timeZone", "UTC"}}},
                                    {"end", {{"dateTime", "2026-06-02T19:00:00"}, {"timeZone", "UTC"}}},
                                    {"recurrence", {{"pattern", {{"type", "weekly"}, {"interval", 1}, {"daysOfWeek", {"tuesday"}}}},
                                                    {"range", {{"type", "numbered"}, {"numberOfOccurrences", 4}, {"startDate", "2026-06-02"}}}}}});
  }
  s.requests();
  auto first = s.pull();
  CHECK(first.changed.size() == 12);  // every occurrence an event of its own
  CHECK(count(s.requests(), "events.get") == 3);  // each master read once to see whose it is
  // one occurrence renamed: the next round reads no master again
  HttpRequest r;
  const std::string yoga = first.changed.front().seriesId;
  r.url = s.fake.url + "v1.0/me/events/" + percent(yoga) + "/instances?startDateTime=2026-06-02T00:00:00Z&endDateTime=2026-06-03T00:00:00Z";
  r.headers = {{"Authorization", "Bearer " + s.fake.accessToken(kUser)}};
  const auto occurrence = json::parse(s.http.send(r)->body)["value"][0]["id"].get<std::string>();
  s.fake.userEdits(occurrence, {{"subject", "Yoga (outdoors)"}});
  auto second = s.provider->pullChanges(s.calendar, first.cursor, kWindow);
  REQUIRE(second);
  CHECK_FALSE(second->changed.empty());
  CHECK(count(s.requests(), "events.get") == 0);
  // the cursor holds ids only
  CHECK(second->cursor.find("Yoga") == std::string::npos);
}
