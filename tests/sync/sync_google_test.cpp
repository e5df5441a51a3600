// The sync engine with Google on either side, against the Google contract fake and Radicale:
// Google -> Radicale, Radicale -> Google, Google <-> Google, in full and private mode; the CalDAV
// scenarios (create, zones, all-day, series with moved and cancelled occurrences, update, delete,
// restore, no echo). Needs the caldav service fixture (tests/services/caldav.sh) and node.
#include "sync/google_pair.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace calgate;
using namespace calgate::sync;
using namespace calgate::model;
using namespace std::chrono;
using calgate::test::Dav;
using calgate::test::EnginePair;
using calgate::test::GoogleSide;
using calgate::test::vevent;
using From = calgate::test::GoogleAndRadicale::From;
using nlohmann::json;

namespace {

const std::string kUser = "ada@acme.example";

json at(const std::string& start, const std::string& end, const std::string& zone) {
  return {{"start", {{"dateTime", start}, {"timeZone", zone}}}, {"end", {{"dateTime", end}, {"timeZone", zone}}}};
}
json titled(const std::string& summary, json times) {
  times["summary"] = summary;
  times["description"] = "notes of " + summary;
  return times;
}
json allDay(const std::string& summary, const std::string& first, const std::string& end) {
  return {{"summary", summary}, {"start", {{"date", first}}}, {"end", {{"date", end}}}};
}


const Event* titledEvent(const std::vector<Event>& events, const std::string& title) {
  for (const auto& e : events) {
    if (e.title == title) return &e;
  }
  return nullptr;
}
const json* titledJson(const std::vector<json>& events, const std::string& title) {
  for (const auto& e : events) {
    if (e.value("summary", "") == title) return &e;
  }
  return nullptr;
}


}  // namespace

TEST_CASE("Google -> Radicale: zones, all-day, a series with moved and cancelled occurrences, update, delete, restore",
          "[sync][google]") {
  calgate::test::GoogleAndRadicale t(From::Google, Direction::OneWay, "from-google");
  auto& [fake, g, dav, davCal, p] = t;

  const auto planning = g.create(titled("Planning", at("2026-12-02T10:00:00-05:00", "2026-12-02T11:30:00-05:00", "America/New_York")));
  g.create(allDay("Offsite", "2026-12-10", "2026-12-12"));
  auto series = titled("Weekly", at("2026-12-01T09:00:00+01:00", "2026-12-01T09:30:00+01:00", "Europe/Berlin"));
  series["recurrence"] = {"RRULE:FREQ=WEEKLY;COUNT=5"};
  const auto weekly = g.create(series);
  const std::string weeklyId = weekly["id"];
  g.edit(weeklyId + "_20261208T080000Z", titled("Weekly (moved)", at("2026-12-08T11:00:00+01:00", "2026-12-08T11:30:00+01:00", "Europe/Berlin")));
  g.remove(weeklyId + "_20261215T080000Z");
  const auto doomed = g.create(allDay("Doomed", "2026-12-20", "2026-12-21"));

  auto r = p.sync(*g.provider, *dav.provider);
  CHECK(r.created == 4);
  CHECK(p.writes == 5);  // four resources, and the moved occurrence joins its series
  auto copies = dav.events(davCal);
  const Event* planningCopy = titledEvent(copies, "Planning");
  REQUIRE(planningCopy);
  CHECK(std::get<ZonedTime>(planningCopy->start).zone == "America/New_York");
  CHECK(std::get<ZonedTime>(planningCopy->start).instant == sys_days(2026y / December / 2) + hours(15));
  const Event* offsite = titledEvent(copies, "Offsite");
  REQUIRE(offsite);
  REQUIRE(offsite->allDay());
  CHECK(std::get<Date>(offsite->end).day == 2026y / December / 12);
  const Event* weeklyCopy = titledEvent(copies, "Weekly");
  REQUIRE(weeklyCopy);
  CHECK(std::any_of(weeklyCopy->recurrence.begin(), weeklyCopy->recurrence.end(),
                    [](const std::string& l) { return l == "RRULE:FREQ=WEEKLY;COUNT=5"; }));
  CHECK(std::any_of(weeklyCopy->recurrence.begin(), weeklyCopy->recurrence.end(),
                    [](const std::string& l) { return l == "EXDATE;TZID=Europe/Berlin:20261215T090000"; }));
  const Event* movedCopy = titledEvent(copies, "Weekly (moved)");
  REQUIRE(movedCopy);
  REQUIRE(movedCopy->recurrenceId);
  CHECK(movedCopy->id == weeklyCopy->id);
  CHECK(std::get<ZonedTime>(*movedCopy->recurrenceId).instant == sys_days(2026y / December / 8) + hours(8));

  CHECK(p.sync(*g.provider, *dav.provider).writes() == 0);

  g.edit(planning["id"], titled("Planning v2", at("2026-12-02T10:00:00-05:00", "2026-12-02T12:00:00-05:00", "America/New_York")));
  g.remove(doomed["id"]);
  auto r2 = p.sync(*g.provider, *dav.provider);
  CHECK(r2.updated == 1);
  CHECK(r2.deleted == 1);
  copies = dav.events(davCal);
  CHECK(titledEvent(copies, "Planning v2"));
  CHECK_FALSE(titledEvent(copies, "Planning"));
  CHECK_FALSE(titledEvent(copies, "Doomed"));

  // a series changed at Google: another occurrence cancelled
  g.remove(weeklyId + "_20261222T080000Z");
  auto r3 = p.sync(*g.provider, *dav.provider);
  CHECK(r3.updated >= 1);
  copies = dav.events(davCal);
  weeklyCopy = titledEvent(copies, "Weekly");
  REQUIRE(weeklyCopy);
  CHECK(std::count_if(weeklyCopy->recurrence.begin(), weeklyCopy->recurrence.end(),
                      [](const std::string& l) { return l.starts_with("EXDATE"); }) == 2);
  CHECK(p.sync(*g.provider, *dav.provider).writes() == 0);
}

TEST_CASE("Radicale -> Google: copies with derived ids, a series with its exception, update, delete, restore, respect",
          "[sync][google]") {
  calgate::test::GoogleAndRadicale t(From::Radicale, Direction::OneWay, "to-google");
  auto& [fake, g, dav, davCal, p] = t;

  dav.put(davCal, "timed", vevent("timed", "Planning", ";TZID=America/New_York:20261202T100000", ";TZID=America/New_York:20261202T113000"));
  dav.put(davCal, "allday", vevent("allday", "Offsite", ";VALUE=DATE:20261210", ";VALUE=DATE:20261212"));
  const std::string master = vevent("weekly", "Weekly", ";TZID=Europe/Berlin:20261201T090000", ";TZID=Europe/Berlin:20261201T093000",
                                    "RRULE:FREQ=WEEKLY;COUNT=5\r\nEXDATE;TZID=Europe/Berlin:20261215T090000\r\n");
  const std::string moved = vevent("weekly", "Weekly (moved)", ";TZID=Europe/Berlin:20261208T110000",
                                   ";TZID=Europe/Berlin:20261208T113000", "RECURRENCE-ID;TZID=Europe/Berlin:20261208T090000\r\n");
  dav.put(davCal, "weekly", master + moved);
  const std::string doomed = dav.put(davCal, "doomed", vevent("doomed", "Doomed", ";VALUE=DATE:20261220", ";VALUE=DATE:20261221"));

  auto r = p.sync(*dav.provider, *g.provider);
  CHECK(r.created == 4);
  auto live = g.live();
  const json* planning = titledJson(live, "Planning");
  REQUIRE(planning);
  CHECK((*planning)["start"]["timeZone"] == "America/New_York");
  CHECK((*planning)["start"]["dateTime"] == "2026-12-02T10:00:00-05:00");
  CHECK((*planning)["extendedProperties"]["private"]["calgatePair"] == p.pairId);
  const json* offsite = titledJson(live, "Offsite");
  REQUIRE(offsite);
  CHECK((*offsite)["end"]["date"] == "2026-12-12");
  const json* weekly = titledJson(live, "Weekly");
  REQUIRE(weekly);
  const std::string weeklyId = (*weekly)["id"];
  CHECK(std::find((*weekly)["recurrence"].begin(), (*weekly)["recurrence"].end(), "EXDATE;TZID=Europe/Berlin:20261215T090000") !=
        (*weekly)["recurrence"].end());
  const json* movedCopy = titledJson(live, "Weekly (moved)");
  REQUIRE(movedCopy);
  CHECK((*movedCopy)["id"] == weeklyId + "_20261208T080000Z");
  CHECK((*movedCopy)["recurringEventId"] == weeklyId);
  CHECK(live.size() == 5);

  CHECK(p.sync(*dav.provider, *g.provider).writes() == 0);

  dav.put(davCal, "timed", vevent("timed", "Planning v2", ";TZID=America/New_York:20261202T100000", ";TZID=America/New_York:20261202T120000"));
  dav.remove(doomed);
  auto r2 = p.sync(*dav.provider, *g.provider);
  CHECK(r2.updated == 1);
  CHECK(r2.deleted == 1);
  live = g.live();
  CHECK(titledJson(live, "Planning v2"));
  CHECK_FALSE(titledJson(live, "Doomed"));

  // the user edits a copy in Google: restored; deletes one: it stays deleted
  g.edit(titledJson(live, "Offsite")->at("id"), {{"summary", "Mine now"}});
  auto r3 = p.sync(*dav.provider, *g.provider);
  CHECK(r3.restored == 1);
  CHECK(titledJson(g.live(), "Offsite"));
  g.remove(titledJson(g.live(), "Planning v2")->at("id"));
  p.sync(*dav.provider, *g.provider);
  CHECK_FALSE(titledJson(g.live(), "Planning v2"));
  CHECK(p.sync(*dav.provider, *g.provider).writes() == 0);
}

TEST_CASE("Google <-> Google two-way: originals cross over, copies never echo", "[sync][google]") {
  calgate::test::GoogleAndGoogle t;
  auto& [fake, team, a, b, p] = t;
  a.create(titled("From primary", at("2026-12-03T09:00:00+01:00", "2026-12-03T10:00:00+01:00", "Europe/Berlin")));
  const auto fromTeam = b.create(titled("From team", at("2026-12-04T09:00:00+01:00", "2026-12-04T10:00:00+01:00", "Europe/Berlin")));
  auto r = p.sync(*a.provider, *b.provider);
  CHECK(r.created == 2);
  CHECK(titledJson(a.live(), "From team"));
  CHECK(titledJson(b.live(), "From primary"));
  CHECK(p.sync(*a.provider, *b.provider).writes() == 0);
  CHECK(p.sync(*a.provider, *b.provider).writes() == 0);

  b.edit(fromTeam["id"], {{"summary", "From team v2"}});
  CHECK(p.sync(*a.provider, *b.provider).updated == 1);
  CHECK(titledJson(a.live(), "From team v2"));
  b.remove(fromTeam["id"]);
  CHECK(p.sync(*a.provider, *b.provider).deleted == 1);
  CHECK_FALSE(titledJson(a.live(), "From team v2"));
  CHECK(a.live().size() == 1);
  CHECK(b.live().size() == 1);
  CHECK(p.sync(*a.provider, *b.provider).writes() == 0);
}

TEST_CASE("private mode into Google: the copy is \"Busy\", private, with nothing else of the event", "[sync][google]") {
  policy::PairRules rules;
  rules.mode = policy::PrivacyMode::Private;
  calgate::test::GoogleAndRadicale t(From::Radicale, Direction::OneWay, "private-src", rules);
  auto& [fake, g, dav, davCal, p] = t;
  dav.put(davCal, "secret", vevent("secret", "Q3 strategy review with Acme Corp", ";TZID=Europe/Berlin:20261202T100000",
                                   ";TZID=Europe/Berlin:20261202T110000", "LOCATION:Board room\r\nCLASS:CONFIDENTIAL\r\n"));
  p.sync(*dav.provider, *g.provider);
  const auto live = g.live();
  REQUIRE(live.size() == 1);
  CHECK(live[0]["summary"] == "Busy");
  CHECK(live[0]["visibility"] == "private");
  CHECK_FALSE(live[0].contains("description"));
  CHECK_FALSE(live[0].contains("location"));
  CHECK_FALSE(live[0].contains("attendees"));
  CHECK(live[0].dump().find("Acme") == std::string::npos);
}

TEST_CASE("Google source: the window bounds what is copied, a copy moved out of it goes, an aged one stays", "[sync][google][window]") {
  // the engine's now: 2026-11-21 09:00 UTC; window 90 days back, 365 ahead
  calgate::test::GoogleAndRadicale t(From::Google, Direction::OneWay, "window");
  auto& [fake, g, dav, davCal, p] = t;
  const sys_seconds now = sys_days(2026y / November / 21) + hours(9);
  auto timedAt = [](const std::string& summary, sys_seconds start, minutes length) {
    return json{{"summary", summary}, {"start", {{"dateTime", formatUtc(start)}}}, {"end", {{"dateTime", formatUtc(start + length)}}}};
  };
  g.create(timedAt("Ended just before", now - days(90) - hours(2), minutes(60)));
  g.create(timedAt("Ends just inside", now - days(90) - minutes(30), minutes(60)));
  const auto edge = g.create(timedAt("Starts just inside", now + days(365) - minutes(1), minutes(60)));
  g.create(timedAt("Starts at the far edge", now + days(365), minutes(60)));
  auto old = timedAt("Old weekly", now - days(400), minutes(30));
  old["start"]["timeZone"] = "UTC";
  old["end"]["timeZone"] = "UTC";
  old["recurrence"] = {"RRULE:FREQ=WEEKLY"};
  g.create(old);
  p.sync(*g.provider, *dav.provider);
  auto copies = dav.events(davCal);
  CHECK(copies.size() == 3);
  CHECK(titledEvent(copies, "Ends just inside"));
  CHECK(titledEvent(copies, "Starts just inside"));
  CHECK(titledEvent(copies, "Old weekly"));  // a series that started long ago still reaches into the window

  g.edit(edge["id"], {{"start", {{"dateTime", formatUtc(now + days(400))}}}, {"end", {{"dateTime", formatUtc(now + days(400) + hours(1))}}}});
  CHECK(p.sync(*g.provider, *dav.provider).deleted == 1);
  CHECK(dav.events(davCal).size() == 2);

  // time passes: the event that ended just inside ages out, and after a complete listing its copy
  // stays (old, not deleted); the one at the far edge comes in
  p.f.clock.advance(days(2));
  fake.expireSyncTokens(kUser);
  auto later = p.sync(*g.provider, *dav.provider);
  CHECK(later.created == 1);
  CHECK(later.deleted == 0);
  copies = dav.events(davCal);
  CHECK(titledEvent(copies, "Ends just inside"));
  CHECK(titledEvent(copies, "Starts at the far edge"));
}

TEST_CASE("changing a pair's rules re-renders its Google copies; Google <-> Google in private mode", "[sync][google]") {
  calgate::test::GoogleAndGoogle t;
  auto& [fake, team, a, b, p] = t;
  auto secret = titled("Salary review", at("2026-12-03T09:00:00+01:00", "2026-12-03T10:00:00+01:00", "Europe/Berlin"));
  secret["location"] = "HR";
  a.create(secret);
  b.create(titled("Dentist", at("2026-12-04T09:00:00+01:00", "2026-12-04T10:00:00+01:00", "Europe/Berlin")));
  p.sync(*a.provider, *b.provider);
  CHECK(titledJson(b.live(), "Salary review"));
  CHECK(titledJson(a.live(), "Dentist"));

  policy::PairRules rules;
  rules.mode = policy::PrivacyMode::Private;
  rules.label = "Occupied";
  REQUIRE(sync::PairStore(p.f.t.db(), p.f.clock).setRules(p.pairId, rules));
  auto r = p.sync(*a.provider, *b.provider);
  CHECK(r.updated == 2);
  for (GoogleSide* side : {&a, &b}) {
    const auto live = side->live();
    REQUIRE(live.size() == 2);
    const auto copy = std::find_if(live.begin(), live.end(), [](const json& e) { return e.contains("extendedProperties"); });
    REQUIRE(copy != live.end());
    CHECK((*copy)["summary"] == "Occupied");
    CHECK((*copy)["visibility"] == "private");
    CHECK_FALSE(copy->contains("description"));
    CHECK_FALSE(copy->contains("location"));
  }
  CHECK(p.sync(*a.provider, *b.provider).writes() == 0);
}

TEST_CASE("the mass-delete guard holds deletions of Google copies until they are confirmed", "[sync][google][guard]") {
  calgate::test::GoogleAndRadicale t(From::Radicale, Direction::OneWay, "guard");
  auto& [fake, g, dav, davCal, p] = t;
  std::vector<std::string> hrefs;
  for (int i = 0; i < 20; ++i) {
    const std::string uid = "g" + std::to_string(i);
    hrefs.push_back(dav.put(davCal, uid, vevent(uid, "Event " + std::to_string(i), ";TZID=Europe/Berlin:202612" + std::string(i < 9 ? "0" : "") +
                                                                                      std::to_string(i + 1) + "T090000",
                                                 ";TZID=Europe/Berlin:202612" + std::string(i < 9 ? "0" : "") + std::to_string(i + 1) + "T100000")));
  }
  p.sync(*dav.provider, *g.provider);
  REQUIRE(g.live().size() == 20);
  for (int i = 0; i < 15; ++i) dav.remove(hrefs[static_cast<std::size_t>(i)]);
  CHECK(p.sync(*dav.provider, *g.provider).paused);
  CHECK(g.live().size() == 20);
  sync::PairStore pairs(p.f.t.db(), p.f.clock);
  REQUIRE(pairs.confirmDeletions(p.pairId));
  CHECK(p.sync(*dav.provider, *g.provider).deleted == 15);
  CHECK(g.live().size() == 5);
}

TEST_CASE("Radicale -> Google: a first sync goes in batches; a copy Google refuses fails alone and is retried",
          "[sync][google][batch]") {
  calgate::test::GoogleAndRadicale t(From::Radicale, Direction::OneWay, "batched");
  auto& [fake, g, dav, davCal, p] = t;
  auto put = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      const std::string day = std::to_string(10 + i % 18);
      dav.put(davCal, "e" + std::to_string(i),
              vevent("e" + std::to_string(i), "Event " + std::to_string(i), ";TZID=Europe/Berlin:202612" + day + "T090000",
                     ";TZID=Europe/Berlin:202612" + day + "T100000"));
    }
  };
  constexpr int kEvents = 60;
  put(0, kEvents);
  const std::size_t before = g.provider->requestCount();
  auto r = p.sync(*dav.provider, *g.provider);
  CHECK(r.created == kEvents);
  const auto batches = fake.state()["batches"];
  REQUIRE(batches.size() == 2);  // 50 + 10 parts: the adapter's batch size
  CHECK(batches[0]["parts"] == 50);
  CHECK(batches[1]["parts"] == 10);
  const std::size_t requests = g.provider->requestCount() - before;
  INFO("requests to Google, listing included: " << requests);
  CHECK(static_cast<double>(requests) / kEvents <= 0.1);  // the goal with batching
  CHECK(g.live().size() == static_cast<std::size_t>(kEvents));
  CHECK(p.sync(*dav.provider, *g.provider).writes() == 0);

  // Google refuses one of five new copies: each part of their batch fails, then the first again
  // when it is sent on its own; the other four are recorded all the same
  put(kEvents, kEvents + 5);
  fake.faults(json::array({{{"method", "calendar.events.insert"}, {"status", 400}, {"reason", "invalid"}, {"times", 6}}}));
  auto refused = p.sync(*dav.provider, *g.provider);
  CHECK(refused.created == 4);
  CHECK(refused.failedEvents.size() == 1);
  CHECK(fake.state()["batches"].size() == 3);
  CHECK(g.live().size() == static_cast<std::size_t>(kEvents + 4));

  // the refused copy is written when its retry is due; nothing else is
  p.f.clock.advance(std::chrono::hours(2));
  auto again = p.sync(*dav.provider, *g.provider);
  CHECK(again.created == 1);
  CHECK(again.writes() == 1);
  CHECK(g.live().size() == static_cast<std::size_t>(kEvents + 5));
  CHECK(p.sync(*dav.provider, *g.provider).writes() == 0);
}

namespace {

// Times off the hour and across clock changes, as Google states them (local time with its offset)
// and as iCalendar does (TZID and local time): a half-hour offset, the southern hemisphere's
// spring-forward night, and the night Europe/Berlin skips 02:00-03:00.
struct ZoneCase {
  const char* title;
  const char* zone;
  const char* googleStart;
  const char* googleEnd;
  const char* icalStart;
  const char* icalEnd;
  sys_seconds start, end;
};

const ZoneCase kZoneCases[] = {
    {"Kolkata stand-up", "Asia/Kolkata", "2026-12-03T09:30:00+05:30", "2026-12-03T10:00:00+05:30", "20261203T093000",
     "20261203T100000", sys_days{2026y / December / 3} + 4h, sys_days{2026y / December / 3} + 4h + 30min},
    {"Sydney night", "Australia/Sydney", "2027-10-03T01:30:00+10:00", "2027-10-03T03:30:00+11:00", "20271003T013000",
     "20271003T033000", sys_days{2027y / October / 2} + 15h + 30min, sys_days{2027y / October / 2} + 16h + 30min},
    {"Berlin skipped hour", "Europe/Berlin", "2027-03-28T01:30:00+01:00", "2027-03-28T03:30:00+02:00", "20270328T013000",
     "20270328T033000", sys_days{2027y / March / 28} + 30min, sys_days{2027y / March / 28} + 1h + 30min},
};

}  // namespace

TEST_CASE("Google -> Radicale in private mode: busy blocks at the right instants, off-hour zones and clock changes kept",
          "[sync][google][zones]") {
  policy::PairRules rules;
  rules.mode = policy::PrivacyMode::Private;
  calgate::test::GoogleAndRadicale t(From::Google, Direction::OneWay, "zones-private", rules);
  auto& [fake, g, dav, davCal, p] = t;
  for (const auto& z : kZoneCases) {
    json e = titled(z.title, at(z.googleStart, z.googleEnd, z.zone));
    e["location"] = "Room 4";
    g.create(e);
  }
  auto r = p.sync(*g.provider, *dav.provider);
  CHECK(r.created == 3);
  const auto copies = dav.events(davCal);
  REQUIRE(copies.size() == 3);
  for (const auto& z : kZoneCases) {
    INFO(z.title);
    const auto found = std::find_if(copies.begin(), copies.end(), [&](const Event& c) {
      return std::get<ZonedTime>(c.start).instant == z.start;
    });
    REQUIRE(found != copies.end());
    CHECK(found->title == "Busy");
    CHECK(found->description.empty());
    CHECK(found->location.empty());
    CHECK(std::get<ZonedTime>(found->start).zone == z.zone);
    CHECK(std::get<ZonedTime>(found->end).instant == z.end);
  }
  for (const auto& c : copies) CHECK(c.title.find("Kolkata") == std::string::npos);
  CHECK(p.sync(*g.provider, *dav.provider).writes() == 0);
}

TEST_CASE("Radicale -> Google: off-hour zones and clock changes arrive as Google states them", "[sync][google][zones]") {
  calgate::test::GoogleAndRadicale t(From::Radicale, Direction::OneWay, "zones-full");
  auto& [fake, g, dav, davCal, p] = t;
  int n = 0;
  for (const auto& z : kZoneCases) {
    const std::string uid = "zone-" + std::to_string(n++);
    dav.put(davCal, uid, vevent(uid, z.title, std::string(";TZID=") + z.zone + ":" + z.icalStart,
                                std::string(";TZID=") + z.zone + ":" + z.icalEnd));
  }
  auto r = p.sync(*dav.provider, *g.provider);
  CHECK(r.created == 3);
  const auto live = g.live();
  for (const auto& z : kZoneCases) {
    INFO(z.title);
    const json* copy = titledJson(live, z.title);
    REQUIRE(copy);
    CHECK((*copy)["start"]["timeZone"] == z.zone);
    CHECK((*copy)["start"]["dateTime"] == z.googleStart);
    CHECK((*copy)["end"]["dateTime"] == z.googleEnd);
  }
  // read back from Google, the instants are the source's
  for (const auto& e : g.events()) {
    const auto z = std::find_if(std::begin(kZoneCases), std::end(kZoneCases), [&](const ZoneCase& c) { return e.title == c.title; });
    REQUIRE(z != std::end(kZoneCases));
    CHECK(std::get<ZonedTime>(e.start).instant == z->start);
    CHECK(std::get<ZonedTime>(e.end).instant == z->end);
  }
  CHECK(p.sync(*dav.provider, *g.provider).writes() == 0);
}
