// The sync engine with Microsoft 365 on a side, against the Graph contract fake (Graph's looseness
// on: replays, duplicates, empty pages, shuffled order) and Radicale: Microsoft -> Radicale,
// Radicale -> Microsoft, Microsoft <-> Microsoft, in full and private mode; zones (Windows names),
// all-day, series as occurrences with moved and cancelled ones, update, delete, no echo. Needs the
// caldav service fixture (tests/services/caldav.sh) and node.
#include "calgate/providers/microsoft/mapping.hpp"
#include "sync/graph_pair.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace calgate;
using namespace calgate::sync;
using namespace calgate::model;
using namespace std::chrono;
using calgate::test::vevent;
using From = calgate::test::GraphAndRadicale::From;
using nlohmann::json;

namespace {

json at(const std::string& start, const std::string& end, const std::string& zone) {
  return {{"start", {{"dateTime", start}, {"timeZone", zone}}}, {"end", {{"dateTime", end}, {"timeZone", zone}}}};
}
json titled(const std::string& subject, json times) {
  times["subject"] = subject;
  times["body"] = {{"contentType", "html"}, {"content", "<p>notes of " + subject + "</p>"}};
  return times;
}
/// Private mode with a label of its own.
policy::PairRules privateWithLabel() {
  policy::PairRules rules;
  rules.mode = policy::PrivacyMode::Private;
  rules.label = "Busy (work)";
  return rules;
}
json allDay(const std::string& subject, const std::string& first, const std::string& end) {
  json t = at(first + "T00:00:00", end + "T00:00:00", "W. Europe Standard Time");
  t["subject"] = subject;
  t["isAllDay"] = true;
  return t;
}

const Event* titledEvent(const std::vector<Event>& events, const std::string& title) {
  for (const auto& e : events) {
    if (e.title == title) return &e;
  }
  return nullptr;
}
std::size_t titledCount(const std::vector<Event>& events, const std::string& title) {
  return static_cast<std::size_t>(std::count_if(events.begin(), events.end(), [&](const Event& e) { return e.title == title; }));
}
const json* subjectIn(const json& stored, const std::string& subject) {
  for (const auto& e : stored) {
    if (e.value("subject", "") == subject) return &e;
  }
  return nullptr;
}

/// The wall-clock starts ("YYYY-MM-DDTHH:MM") of the stored single events titled `subject`, sorted;
/// fails the test on a series among them.
std::vector<std::string> singleStarts(const json& stored, const std::string& subject) {
  std::vector<std::string> out;
  for (const auto& e : stored) {
    if (e.value("subject", "") != subject) continue;
    CHECK(e.value("recurrence", json()).is_null());
    out.push_back(e["start"].value("dateTime", "").substr(0, 16));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("Microsoft -> Radicale: Windows zones, all-day, a series as its occurrences (moved, cancelled), update, delete",
          "[sync][microsoft]") {
  calgate::test::GraphAndRadicale t(From::Graph, Direction::OneWay, "from-graph");
  auto& [fake, m, dav, davCal, p] = t;

  const auto planning = m.create(titled("Planning", at("2026-12-02T10:00:00", "2026-12-02T11:30:00", "Eastern Standard Time")));
  m.create(allDay("Offsite", "2026-12-10", "2026-12-12"));
  auto series = titled("Weekly", at("2026-12-01T09:00:00", "2026-12-01T09:30:00", "W. Europe Standard Time"));
  series["recurrence"] = {{"pattern", {{"type", "weekly"}, {"interval", 1}, {"daysOfWeek", {"tuesday"}}}},
                          {"range", {{"type", "numbered"}, {"startDate", "2026-12-01"}, {"numberOfOccurrences", 4}}}};
  m.create(series);
  const auto doomed = m.create(titled("Doomed", at("2026-12-20T09:00:00", "2026-12-20T10:00:00", "UTC")));

  auto r = p.sync(*m.provider, *dav.provider);
  CHECK(r.created == 7);  // planning, offsite, doomed and four occurrences
  auto copies = dav.events(davCal);
  const Event* planningCopy = titledEvent(copies, "Planning");
  REQUIRE(planningCopy);
  CHECK(std::get<ZonedTime>(planningCopy->start).instant == sys_days(2026y / December / 2) + hours(15));
  CHECK(std::get<ZonedTime>(planningCopy->start).zone == "America/New_York");  // the organiser's zone, not UTC
  CHECK(planningCopy->description == "notes of Planning");
  const Event* offsite = titledEvent(copies, "Offsite");
  REQUIRE(offsite);
  REQUIRE(offsite->allDay());
  CHECK(std::get<Date>(offsite->start).day == 2026y / December / 10);
  CHECK(std::get<Date>(offsite->end).day == 2026y / December / 12);
  CHECK(titledCount(copies, "Weekly") == 4);

  CHECK(p.sync(*m.provider, *dav.provider).writes() == 0);

  // the user moves one occurrence, cancels another, edits and deletes single events
  std::vector<Event> occurrences;
  for (const auto& e : m.events()) {
    if (e.title == "Weekly") occurrences.push_back(e);
  }
  std::sort(occurrences.begin(), occurrences.end(),
            [](const Event& a, const Event& b) { return std::get<ZonedTime>(a.start).instant < std::get<ZonedTime>(b.start).instant; });
  REQUIRE(occurrences.size() == 4);
  m.edit(occurrences[1].id, titled("Weekly (moved)", at("2026-12-08T11:00:00", "2026-12-08T11:30:00", "W. Europe Standard Time")));
  m.remove(occurrences[2].id);
  m.edit(planning["id"], titled("Planning v2", at("2026-12-02T10:00:00", "2026-12-02T12:00:00", "Eastern Standard Time")));
  m.remove(doomed["id"]);
  auto r2 = p.sync(*m.provider, *dav.provider);
  CHECK(r2.updated >= 2);
  CHECK(r2.deleted == 2);
  copies = dav.events(davCal);
  CHECK(titledEvent(copies, "Planning v2"));
  CHECK_FALSE(titledEvent(copies, "Planning"));
  CHECK_FALSE(titledEvent(copies, "Doomed"));
  const Event* moved = titledEvent(copies, "Weekly (moved)");
  REQUIRE(moved);
  CHECK(std::get<ZonedTime>(moved->start).instant == sys_days(2026y / December / 8) + hours(10));
  CHECK(titledCount(copies, "Weekly") == 2);
  CHECK(p.sync(*m.provider, *dav.provider).writes() == 0);
}

TEST_CASE("Radicale -> Microsoft: copies with Windows zones and the origin marker, update, delete, a series as a series",
          "[sync][microsoft]") {
  calgate::test::GraphAndRadicale t(From::Radicale, Direction::OneWay, "to-graph");
  auto& [fake, m, dav, davCal, p] = t;

  dav.put(davCal, "timed", vevent("timed", "Planning", ";TZID=America/New_York:20261202T100000", ";TZID=America/New_York:20261202T113000"));
  dav.put(davCal, "allday", vevent("allday", "Offsite", ";VALUE=DATE:20261210", ";VALUE=DATE:20261212"));
  const std::string doomed = dav.put(davCal, "doomed", vevent("doomed", "Doomed", ";VALUE=DATE:20261220", ";VALUE=DATE:20261221"));
  dav.put(davCal, "weekly", vevent("weekly", "Weekly", ";TZID=Europe/Berlin:20261201T090000", ";TZID=Europe/Berlin:20261201T093000",
                                   "RRULE:FREQ=WEEKLY;COUNT=5\r\n"));

  dav.put(davCal, "thirty-first", vevent("thirty-first", "Month end", ";TZID=Europe/Berlin:20261231T090000", ";TZID=Europe/Berlin:20261231T093000",
                                         "RRULE:FREQ=MONTHLY;BYMONTHDAY=31\r\n"));

  auto r = p.sync(*dav.provider, *m.provider);
  // the 31st of every month (Outlook would move it in short months): its 7 occurrences in the window
  CHECK(r.created == 4 + 7);
  CHECK(r.failedEvents.empty());
  auto stored = m.stored();
  const json* planning = subjectIn(stored, "Planning");
  REQUIRE(planning);
  CHECK((*planning)["start"]["timeZone"] == "Eastern Standard Time");
  CHECK((*planning)["start"]["dateTime"].get<std::string>().starts_with("2026-12-02T10:00:00"));
  CHECK((*planning)["extended"][std::string(providers::microsoft::kOriginPropertyId)].get<std::string>().starts_with(p.pairId + " "));
  const json* offsite = subjectIn(stored, "Offsite");
  REQUIRE(offsite);
  CHECK((*offsite)["isAllDay"] == true);
  const json* weekly = subjectIn(stored, "Weekly");
  REQUIRE(weekly);
  CHECK((*weekly)["recurrence"]["pattern"]["type"] == "weekly");
  CHECK((*weekly)["recurrence"]["range"]["numberOfOccurrences"] == 5);
  CHECK(singleStarts(stored, "Month end") == std::vector<std::string>{"2026-12-31T09:00", "2027-01-31T09:00", "2027-03-31T09:00",
                                                                     "2027-05-31T09:00", "2027-07-31T09:00", "2027-08-31T09:00",
                                                                     "2027-10-31T09:00"});

  dav.put(davCal, "timed", vevent("timed", "Planning v2", ";TZID=America/New_York:20261202T100000", ";TZID=America/New_York:20261202T120000"));
  dav.remove(doomed);
  auto r2 = p.sync(*dav.provider, *m.provider);
  CHECK(r2.updated == 1);
  CHECK(r2.deleted == 1);
  stored = m.stored();
  CHECK(subjectIn(stored, "Planning v2"));
  CHECK_FALSE(subjectIn(stored, "Doomed"));
  CHECK(stored.size() == 3 + 7);
  CHECK(p.sync(*dav.provider, *m.provider).writes() == 0);
}

TEST_CASE("Radicale -> Microsoft: a series with moved and cancelled occurrences, a changed rule, in full and private mode",
          "[sync][microsoft][series]") {
  for (const bool privateMode : {false, true}) {
    INFO((privateMode ? "private" : "full"));
    calgate::test::GraphAndRadicale t(From::Radicale, Direction::OneWay, privateMode ? "series-private" : "series-full",
                                      privateMode ? privateWithLabel() : policy::PairRules{});
    auto& [fake, m, dav, davCal, p] = t;
    const std::string master = vevent("daily", "Daily", ";TZID=Europe/Berlin:20261207T090000", ";TZID=Europe/Berlin:20261207T091500",
                                      "RRULE:FREQ=DAILY;COUNT=10\r\nEXDATE;TZID=Europe/Berlin:20261209T090000\r\n");
    const std::string moved = vevent("daily", "Daily (moved)", ";TZID=Europe/Berlin:20261210T140000", ";TZID=Europe/Berlin:20261210T141500",
                                     "RECURRENCE-ID;TZID=Europe/Berlin:20261210T090000\r\n");
    const std::string href = dav.put(davCal, "daily", master + moved);
    auto r = p.sync(*dav.provider, *m.provider);
    CHECK(r.failedEvents.empty());
    auto stored = m.stored();
    REQUIRE(stored.size() == 1);
    const json series = stored[0];
    CHECK(series["recurrence"]["pattern"]["type"] == "daily");
    CHECK(series["cancelled"] == json{"2026-12-09T08:00:00.000Z"});
    REQUIRE(series["exceptions"].size() == 1);
    CHECK(series["exceptions"][0]["originalStart"] == "2026-12-10T08:00:00.000Z");
    CHECK(series["exceptions"][0]["start"]["dateTime"].get<std::string>().starts_with("2026-12-10T14:00:00"));
    CHECK(series["exceptions"][0]["subject"] == (privateMode ? "Busy (work)" : "Daily (moved)"));
    if (privateMode) CHECK(series.dump().find("Daily") == std::string::npos);
    CHECK(p.sync(*dav.provider, *m.provider).writes() == 0);

    // another occurrence cancelled, the moved one moved again
    const std::string master2 = vevent("daily", "Daily", ";TZID=Europe/Berlin:20261207T090000", ";TZID=Europe/Berlin:20261207T091500",
                                       "RRULE:FREQ=DAILY;COUNT=10\r\nEXDATE;TZID=Europe/Berlin:20261209T090000,20261212T090000\r\n");
    const std::string moved2 = vevent("daily", "Daily (moved)", ";TZID=Europe/Berlin:20261211T160000", ";TZID=Europe/Berlin:20261211T161500",
                                      "RECURRENCE-ID;TZID=Europe/Berlin:20261210T090000\r\n");
    dav.put(davCal, "daily", master2 + moved2);
    r = p.sync(*dav.provider, *m.provider);
    CHECK(r.failedEvents.empty());
    stored = m.stored();
    REQUIRE(stored.size() == 1);
    CHECK(stored[0]["cancelled"].size() == 2);
    REQUIRE(stored[0]["exceptions"].size() == 1);
    CHECK(stored[0]["exceptions"][0]["start"]["dateTime"].get<std::string>().starts_with("2026-12-11T16:00:00"));
    CHECK(p.sync(*dav.provider, *m.provider).writes() == 0);

    // the rule changes (every other day): Outlook drops the exceptions, the copy follows the source
    dav.put(davCal, "daily", vevent("daily", "Daily", ";TZID=Europe/Berlin:20261207T090000", ";TZID=Europe/Berlin:20261207T091500",
                                    "RRULE:FREQ=DAILY;INTERVAL=2;COUNT=5\r\n"));
    r = p.sync(*dav.provider, *m.provider);
    CHECK(r.failedEvents.empty());
    stored = m.stored();
    REQUIRE(stored.size() == 1);
    CHECK(stored[0]["recurrence"]["pattern"]["interval"] == 2);
    CHECK(stored[0]["exceptions"].empty());
    CHECK(stored[0]["cancelled"].empty());
    CHECK(p.sync(*dav.provider, *m.provider).writes() == 0);

    // the series goes
    dav.remove(href);
    r = p.sync(*dav.provider, *m.provider);
    CHECK(r.deleted == 1);
    CHECK(m.stored().empty());
  }
}

TEST_CASE("Radicale -> Microsoft: a series Outlook cannot hold exactly is copied as its occurrences in the moving window; "
          "a rule that turns exact becomes a series copy, and back",
          "[sync][microsoft][series][expanded]") {
  calgate::test::GraphAndRadicale t(From::Radicale, Direction::OneWay, "expanded");
  auto& [fake, m, dav, davCal, p] = t;
  using Starts = std::vector<std::string>;
  auto monthEnd = [](const std::string& rule) {
    return vevent("month-end", "Month end", ";TZID=Europe/Berlin:20261231T090000", ";TZID=Europe/Berlin:20261231T093000", rule);
  };
  // the 31st of every month (Outlook would move it in short months), January cancelled, March moved;
  // and a weekly series with an extra date (no pattern holds an RDATE)
  const std::string moved = vevent("month-end", "Month end (moved)", ";TZID=Europe/Berlin:20270330T150000",
                                   ";TZID=Europe/Berlin:20270330T153000", "RECURRENCE-ID;TZID=Europe/Berlin:20270331T090000\r\n");
  const std::string href =
      dav.put(davCal, "month-end", monthEnd("RRULE:FREQ=MONTHLY;BYMONTHDAY=31\r\nEXDATE;TZID=Europe/Berlin:20270131T090000\r\n") + moved);
  dav.put(davCal, "with-rdate", vevent("with-rdate", "Weekly+", ";TZID=Europe/Berlin:20261201T100000", ";TZID=Europe/Berlin:20261201T110000",
                                       "RRULE:FREQ=WEEKLY;COUNT=3\r\nRDATE;TZID=Europe/Berlin:20261205T100000\r\n"));
  auto r = p.sync(*dav.provider, *m.provider);
  CHECK(r.failedEvents.empty());
  CHECK(r.created == 6 + 4);
  auto stored = m.stored();
  CHECK(stored.size() == 10);
  CHECK(singleStarts(stored, "Month end") == Starts{"2026-12-31T09:00", "2027-05-31T09:00", "2027-07-31T09:00", "2027-08-31T09:00", "2027-10-31T09:00"});
  CHECK(singleStarts(stored, "Month end (moved)") == Starts{"2027-03-30T15:00"});
  CHECK(singleStarts(stored, "Weekly+") == Starts{"2026-12-01T10:00", "2026-12-05T10:00", "2026-12-08T10:00", "2026-12-15T10:00"});
  CHECK((*subjectIn(stored, "Weekly+"))["start"]["timeZone"] == "W. Europe Standard Time");
  CHECK(p.sync(*dav.provider, *m.provider).writes() == 0);

  // the window moves: a day later nothing is new; 40 days later the 31st of December 2027 has entered it
  p.f.clock.advance(days(1));
  CHECK(p.sync(*dav.provider, *m.provider).writes() == 0);
  p.f.clock.advance(days(40));
  r = p.sync(*dav.provider, *m.provider);
  CHECK(r.created == 1);
  CHECK(r.writes() == 1);
  CHECK(singleStarts(m.stored(), "Month end").back() == "2027-12-31T09:00");
  CHECK(p.sync(*dav.provider, *m.provider).writes() == 0);

  // a user renames one occurrence's copy in Outlook: that copy alone is written back; one deleted stays deleted
  auto idOf = [&](const std::string& start) {
    for (const auto& e : m.stored()) {
      if (e.value("subject", "") == "Month end" && e["start"].value("dateTime", "").starts_with(start)) return e["id"].get<std::string>();
    }
    FAIL("no copy starts at " << start);
    return std::string();
  };
  m.edit(idOf("2027-05-31"), {{"subject", "Renamed in Outlook"}});
  r = p.sync(*dav.provider, *m.provider);
  CHECK(r.writes() == 1);
  CHECK(singleStarts(m.stored(), "Renamed in Outlook").empty());
  m.remove(idOf("2026-12-31"));
  CHECK(p.sync(*dav.provider, *m.provider).writes() == 0);
  CHECK(p.sync(*dav.provider, *m.provider).writes() == 0);

  // four months on: the copies of occurrences that left the window stay, the new ones come
  p.f.clock.advance(days(120));  // 2027-05-01: the window runs from 2027-01-31 to 2028-04-30
  r = p.sync(*dav.provider, *m.provider);
  CHECK(r.created == 2);
  CHECK(r.deleted == 0);
  stored = m.stored();
  CHECK(singleStarts(stored, "Month end") == Starts{"2027-05-31T09:00", "2027-07-31T09:00", "2027-08-31T09:00", "2027-10-31T09:00",
                                                    "2027-12-31T09:00", "2028-01-31T09:00", "2028-03-31T09:00"});
  CHECK(singleStarts(stored, "Weekly+").size() == 4);  // all in the past now, still there
  CHECK(p.sync(*dav.provider, *m.provider).writes() == 0);

  // the rule turns exact (the last day of every month: Outlook's day 31): one series copy instead of the occurrences
  dav.put(davCal, "month-end", monthEnd("RRULE:FREQ=MONTHLY;BYMONTHDAY=-1\r\n"));
  r = p.sync(*dav.provider, *m.provider);
  CHECK(r.failedEvents.empty());
  CHECK(r.created == 1);
  CHECK(r.deleted == 8);
  stored = m.stored();
  REQUIRE(subjectIn(stored, "Month end"));
  CHECK((*subjectIn(stored, "Month end"))["recurrence"]["pattern"]["type"] == "absoluteMonthly");
  CHECK((*subjectIn(stored, "Month end"))["recurrence"]["pattern"]["dayOfMonth"] == 31);
  CHECK(titledCount(m.events(), "Month end (moved)") == 0);
  std::size_t monthEnds = 0;
  for (const auto& e : stored) monthEnds += e.value("subject", "") == "Month end" ? 1 : 0;
  CHECK(monthEnds == 1);
  CHECK(p.sync(*dav.provider, *m.provider).writes() == 0);

  // and back to the 31st: the series copy goes, the occurrences in the window come back
  dav.put(davCal, "month-end", monthEnd("RRULE:FREQ=MONTHLY;BYMONTHDAY=31\r\n"));
  r = p.sync(*dav.provider, *m.provider);
  CHECK(r.failedEvents.empty());
  CHECK(r.deleted == 1);
  CHECK(r.created == 8);
  CHECK(singleStarts(m.stored(), "Month end") == Starts{"2027-03-31T09:00", "2027-05-31T09:00", "2027-07-31T09:00", "2027-08-31T09:00",
                                                        "2027-10-31T09:00", "2027-12-31T09:00", "2028-01-31T09:00", "2028-03-31T09:00"});
  CHECK(p.sync(*dav.provider, *m.provider).writes() == 0);

  // the series goes: every copy of it goes
  dav.remove(href);
  r = p.sync(*dav.provider, *m.provider);
  CHECK(r.deleted == 8);
  CHECK(singleStarts(m.stored(), "Month end").empty());
  CHECK(m.stored().size() == 4);
  CHECK(p.sync(*dav.provider, *m.provider).writes() == 0);
}

TEST_CASE("Radicale -> Microsoft: a series Outlook cannot hold with more occurrences in the window than calgate copies one by one "
          "is refused with the reason",
          "[sync][microsoft][series][expanded]") {
  calgate::test::GraphAndRadicale t(From::Radicale, Direction::OneWay, "expanded-too-many");
  auto& [fake, m, dav, davCal, p] = t;
  // every hour (Outlook has no hourly pattern): 8,760 occurrences in a year's window
  dav.put(davCal, "hourly", vevent("hourly", "Hourly", ";TZID=Europe/Berlin:20261201T090000", ";TZID=Europe/Berlin:20261201T091000",
                                   "RRULE:FREQ=HOURLY\r\n"));
  auto plan = p.f.engine->planPair(p.pairId, *dav.provider, *m.provider);
  REQUIRE(plan);
  REQUIRE(plan->directions.front().steps.size() == 1);
  const auto& step = plan->directions.front().steps.front();
  CHECK(step.kind == StepKind::Deny);
  REQUIRE(step.reasons.size() == 1);
  CHECK_THAT(step.reasons[0], Catch::Contains("more than 1000 occurrences in the sync window"));
  auto r = p.sync(*dav.provider, *m.provider);
  CHECK(r.denied == 1);
  CHECK(r.writes() == 0);
  CHECK(m.stored().empty());
  CHECK(p.sync(*dav.provider, *m.provider).denied == 0);  // said once, not again while the source is unchanged
}

TEST_CASE("Google -> Microsoft in private mode: a Google series on the 31st becomes its occurrences, busy blocks with the label",
          "[sync][microsoft][google][series][expanded]") {
  using GG = calgate::test::GoogleAndGraph;
  GG t(GG::From::Google, Direction::OneWay, privateWithLabel());
  auto& [gfake, mfake, g, m, p] = t;
  g.create({{"summary", "Payroll run"}, {"location", "Finance"},
            {"start", {{"dateTime", "2026-12-31T09:00:00+01:00"}, {"timeZone", "Europe/Berlin"}}},
            {"end", {{"dateTime", "2026-12-31T10:00:00+01:00"}, {"timeZone", "Europe/Berlin"}}},
            {"recurrence", {"RRULE:FREQ=MONTHLY;BYMONTHDAY=31;COUNT=4"}}});
  auto r = p.sync(*g.provider, *m.provider);
  CHECK(r.failedEvents.empty());
  CHECK(r.created == 4);  // 31 December, January, March, May
  const auto stored = m.stored();
  CHECK(singleStarts(stored, "Busy (work)") == std::vector<std::string>{"2026-12-31T09:00", "2027-01-31T09:00", "2027-03-31T09:00", "2027-05-31T09:00"});
  for (const auto& e : stored) CHECK(e["sensitivity"] == "private");
  CHECK(stored.dump().find("Payroll") == std::string::npos);
  CHECK(stored.dump().find("Finance") == std::string::npos);
  CHECK(p.sync(*g.provider, *m.provider).writes() == 0);
}

TEST_CASE("Radicale -> Microsoft in private mode: busy blocks with the label, private, nothing of the event", "[sync][microsoft]") {
  calgate::test::GraphAndRadicale t(From::Radicale, Direction::OneWay, "to-graph-private", privateWithLabel());
  auto& [fake, m, dav, davCal, p] = t;
  dav.put(davCal, "secret", vevent("secret", "Acquisition talks", ";TZID=Europe/Berlin:20261203T100000", ";TZID=Europe/Berlin:20261203T110000",
                                   "LOCATION:Board room\r\n"));
  auto r = p.sync(*dav.provider, *m.provider);
  CHECK(r.created == 1);
  const auto stored = m.stored();
  REQUIRE(stored.size() == 1);
  CHECK(stored[0]["subject"] == "Busy (work)");
  CHECK(stored[0]["sensitivity"] == "private");
  CHECK(stored[0].dump().find("Acquisition") == std::string::npos);
  CHECK(stored[0].dump().find("Board room") == std::string::npos);
}

TEST_CASE("Microsoft <-> Microsoft two-way: both directions, edits come back round, no echo", "[sync][microsoft]") {
  calgate::test::GraphAndGraph t;
  auto& [fake, a, b, p] = t;
  a.create(titled("From A", at("2026-12-03T09:00:00", "2026-12-03T10:00:00", "W. Europe Standard Time")));
  b.create(titled("From B", at("2026-12-04T09:00:00", "2026-12-04T10:00:00", "GMT Standard Time")));
  auto r = p.sync(*a.provider, *b.provider);
  CHECK(r.created == 2);
  CHECK(subjectIn(b.stored(), "From A"));
  CHECK(subjectIn(a.stored(), "From B"));
  CHECK(a.stored().size() == 2);
  CHECK(b.stored().size() == 2);
  CHECK(p.sync(*a.provider, *b.provider).writes() == 0);  // calgate's own copies are never mirrored back
  CHECK(p.sync(*a.provider, *b.provider).writes() == 0);
}

TEST_CASE("Google -> Microsoft and Microsoft -> Google: zones, all-day, a Microsoft series as its occurrences, a Google series as a series",
          "[sync][microsoft][google]") {
  using GG = calgate::test::GoogleAndGraph;
  SECTION("Google -> Microsoft") {
    GG t(GG::From::Google, Direction::OneWay);
    auto& [gfake, mfake, g, m, p] = t;
    g.create({{"summary", "Planning"}, {"start", {{"dateTime", "2026-12-02T10:00:00-05:00"}, {"timeZone", "America/New_York"}}},
              {"end", {{"dateTime", "2026-12-02T11:30:00-05:00"}, {"timeZone", "America/New_York"}}}});
    g.create({{"summary", "Offsite"}, {"start", {{"date", "2026-12-10"}}}, {"end", {{"date", "2026-12-12"}}}});
    g.create({{"summary", "Weekly"}, {"start", {{"dateTime", "2026-12-01T09:00:00+01:00"}, {"timeZone", "Europe/Berlin"}}},
              {"end", {{"dateTime", "2026-12-01T09:30:00+01:00"}, {"timeZone", "Europe/Berlin"}}}, {"recurrence", {"RRULE:FREQ=WEEKLY;COUNT=3"}}});
    auto r = p.sync(*g.provider, *m.provider);
    CHECK(r.created == 3);
    CHECK(r.failedEvents.empty());
    const auto stored = m.stored();
    const json* planning = subjectIn(stored, "Planning");
    REQUIRE(planning);
    CHECK((*planning)["start"]["timeZone"] == "Eastern Standard Time");
    CHECK((*planning)["start"]["dateTime"].get<std::string>().starts_with("2026-12-02T10:00:00"));
    const json* offsite = subjectIn(stored, "Offsite");
    REQUIRE(offsite);
    CHECK((*offsite)["isAllDay"] == true);
    const json* weekly = subjectIn(stored, "Weekly");
    REQUIRE(weekly);
    CHECK((*weekly)["recurrence"]["pattern"]["daysOfWeek"] == json{"tuesday"});
    CHECK((*weekly)["start"]["timeZone"] == "W. Europe Standard Time");
    CHECK(p.sync(*g.provider, *m.provider).writes() == 0);
  }
  SECTION("Microsoft -> Google") {
    GG t(GG::From::Graph, Direction::OneWay);
    auto& [gfake, mfake, g, m, p] = t;
    m.create(titled("Planning", at("2026-12-02T10:00:00", "2026-12-02T11:30:00", "Eastern Standard Time")));
    m.create(allDay("Offsite", "2026-12-10", "2026-12-12"));
    auto series = titled("Daily", at("2026-12-07T09:00:00", "2026-12-07T09:15:00", "W. Europe Standard Time"));
    series["recurrence"] = {{"pattern", {{"type", "daily"}, {"interval", 1}}},
                            {"range", {{"type", "numbered"}, {"startDate", "2026-12-07"}, {"numberOfOccurrences", 3}}}};
    m.create(series);
    auto r = p.sync(*m.provider, *g.provider);
    CHECK(r.created == 5);
    const auto live = g.live();
    std::size_t daily = 0;
    for (const auto& e : live) {
      if (e.value("summary", "") == "Daily") ++daily;
      if (e.value("summary", "") == "Planning") CHECK(e["start"]["dateTime"] == "2026-12-02T10:00:00-05:00");
      if (e.value("summary", "") == "Offsite") CHECK(e["start"]["date"] == "2026-12-10");
    }
    CHECK(daily == 3);
    CHECK(p.sync(*m.provider, *g.provider).writes() == 0);
  }
}

TEST_CASE("Radicale -> Microsoft: a first sync goes in $batches of 20; a series in the same run goes on its own",
          "[sync][microsoft][batch]") {
  calgate::test::GraphAndRadicale t(From::Radicale, Direction::OneWay, "to-graph-batched");
  auto& [fake, m, dav, davCal, p] = t;
  constexpr int kEvents = 30;
  for (int i = 0; i < kEvents; ++i) {
    const std::string day = std::to_string(10 + i % 18);
    dav.put(davCal, "e" + std::to_string(i),
            vevent("e" + std::to_string(i), "Event " + std::to_string(i), ";TZID=Europe/Berlin:202612" + day + "T090000",
                   ";TZID=Europe/Berlin:202612" + day + "T100000"));
  }
  dav.put(davCal, "weekly", vevent("weekly", "Weekly", ";TZID=Europe/Berlin:20261201T090000", ";TZID=Europe/Berlin:20261201T093000",
                                   "RRULE:FREQ=WEEKLY;COUNT=5\r\n"));
  const std::size_t before = m.provider->requestCount();
  auto r = p.sync(*dav.provider, *m.provider);
  CHECK(r.created == kEvents + 1);
  CHECK(r.failedEvents.empty());
  const auto batches = fake.state()["batches"];
  REQUIRE(batches.size() == 2);
  CHECK(batches[0]["requests"].get<int>() + batches[1]["requests"].get<int>() == kEvents);
  const std::size_t requests = m.provider->requestCount() - before;
  INFO("requests to Graph, listing included: " << requests);
  CHECK(static_cast<double>(requests) / kEvents <= 0.25);
  CHECK(m.stored().size() == static_cast<std::size_t>(kEvents) + 1);
  CHECK(p.sync(*dav.provider, *m.provider).writes() == 0);
}

TEST_CASE("Microsoft -> Radicale in private mode: busy blocks with the label, nothing of the event", "[sync][microsoft]") {
  calgate::test::GraphAndRadicale t(From::Graph, Direction::OneWay, "from-graph-private", privateWithLabel());
  auto& [fake, m, dav, davCal, p] = t;
  json secret = titled("Acquisition talks", {{"start", {{"dateTime", "2026-12-03T10:00:00"}, {"timeZone", "W. Europe Standard Time"}}},
                                             {"end", {{"dateTime", "2026-12-03T11:00:00"}, {"timeZone", "W. Europe Standard Time"}}}});
  secret["location"] = {{"displayName", "Board room"}};
  m.create(secret);
  auto r = p.sync(*m.provider, *dav.provider);
  CHECK(r.created == 1);
  const auto copies = dav.events(davCal);
  REQUIRE(copies.size() == 1);
  CHECK(copies[0].title == "Busy (work)");
  CHECK(copies[0].location.empty());
  CHECK(copies[0].description.empty());
  CHECK(std::get<ZonedTime>(copies[0].start).instant == sys_days{2026y / December / 3} + 9h);
  CHECK(p.sync(*m.provider, *dav.provider).writes() == 0);
}

TEST_CASE("Radicale <-> Microsoft two-way with a series: the series copy is calgate's, never mirrored back, also after a user edits an occurrence",
          "[sync][microsoft][series]") {
  calgate::test::GraphAndRadicale t(From::Radicale, Direction::TwoWay, "series-two-way");
  auto& [fake, m, dav, davCal, p] = t;
  dav.put(davCal, "weekly", vevent("weekly", "Weekly", ";TZID=Europe/Berlin:20261201T090000", ";TZID=Europe/Berlin:20261201T093000",
                                   "RRULE:FREQ=WEEKLY;COUNT=5\r\n"));
  auto r = p.sync(*dav.provider, *m.provider);
  CHECK(r.created == 1);
  REQUIRE(m.stored().size() == 1);
  CHECK(p.sync(*dav.provider, *m.provider).writes() == 0);
  CHECK(dav.events(davCal).size() == 1);  // the master only: no occurrence came back as an event of its own
  // the user renames one occurrence of the copy in Outlook: the copy changed (its master's ETag), so
  // calgate writes the source's series again, and nothing comes back to Radicale
  const std::string master = m.stored()[0]["id"];
  const auto second = m.instanceIds(master, "2026-12-08T00:00:00Z", "2026-12-09T00:00:00Z");
  REQUIRE(second.size() == 1);
  m.edit(second[0], {{"subject", "Weekly (renamed in Outlook)"}});
  r = p.sync(*dav.provider, *m.provider);
  CHECK(r.writes() >= 1);
  CHECK(dav.events(davCal).size() == 1);
  CHECK(m.stored()[0]["subject"] == "Weekly");
  CHECK(p.sync(*dav.provider, *m.provider).writes() == 0);
}
