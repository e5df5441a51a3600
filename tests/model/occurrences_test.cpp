// The event model: recurrence expansion (series -> occurrences in a window: busy blocks, Graph
// instances), time helpers and provider kinds.
#include "calgate/model/event.hpp"
#include "calgate/model/occurrences.hpp"

#include <catch2/catch.hpp>

using namespace calgate::model;
using namespace std::chrono;
using calgate::core::ErrorCode;

namespace {

ZonedTime in(std::string_view zone, local_seconds local) { return *zonedFromLocal(local, zone); }
ZonedTime berlin(local_seconds local) { return in("Europe/Berlin", local); }
sys_seconds utc(sys_days day, seconds time = seconds(0)) { return day + time; }

Event series(std::string id, EventTime start, EventTime end, std::vector<std::string> recurrence) {
  Event e;
  e.id = std::move(id);
  e.uid = "uid-" + e.id;
  e.start = std::move(start);
  e.end = std::move(end);
  e.recurrence = std::move(recurrence);
  return e;
}

Event overrideOf(const Event& master, EventTime recurrenceId, EventTime start, EventTime end) {
  Event e;
  e.id = master.id;
  e.uid = master.uid;
  e.recurrenceId = std::move(recurrenceId);
  e.start = std::move(start);
  e.end = std::move(end);
  return e;
}

std::vector<std::string> utcStarts(const std::vector<Occurrence>& os) {
  std::vector<std::string> out;
  for (const auto& o : os) out.push_back(formatUtc(o.startInstant));
  return out;
}

std::vector<std::string> localStarts(const std::vector<Occurrence>& os) {
  std::vector<std::string> out;
  for (const auto& o : os) out.push_back(formatLocal(localTimeOf(std::get<ZonedTime>(o.start))));
  return out;
}

// A Berlin series 09:00-10:00 from `day`, and a window around it.
Event berlinNine(std::string id, local_days day, std::vector<std::string> recurrence) {
  return series(std::move(id), berlin(day + 9h), berlin(day + 10h), std::move(recurrence));
}

const sys_seconds kYear2026 = utc(sys_days{2026y / January / 1});
const sys_seconds kYear2027 = utc(sys_days{2027y / January / 1});

}  // namespace

TEST_CASE("weekly series keeps its wall-clock time across DST changes", "[occurrences]") {
  // Europe/Berlin: summer time from 2026-03-29, winter time from 2026-10-25
  const std::vector<Event> events = {berlinNine("s", local_days{2026y / March / 16}, {"RRULE:FREQ=WEEKLY;COUNT=4"})};
  auto spring = expandOccurrences(events, kYear2026, kYear2027);
  REQUIRE(spring);
  CHECK(utcStarts(*spring) == std::vector<std::string>{"2026-03-16T08:00:00Z", "2026-03-23T08:00:00Z",
                                                      "2026-03-30T07:00:00Z", "2026-04-06T07:00:00Z"});
  CHECK(localStarts(*spring) == std::vector<std::string>{"2026-03-16T09:00:00", "2026-03-23T09:00:00",
                                                        "2026-03-30T09:00:00", "2026-04-06T09:00:00"});
  for (const auto& o : *spring) {
    CHECK(o.event == &events[0]);
    CHECK(o.endInstant - o.startInstant == 1h);
    CHECK(std::get<ZonedTime>(o.end).instant == o.endInstant);
    CHECK(std::get<ZonedTime>(o.start).zone == "Europe/Berlin");
    REQUIRE(o.recurrenceId);
    CHECK(*o.recurrenceId == o.start);
  }

  const std::vector<Event> autumn = {berlinNine("a", local_days{2026y / October / 19}, {"RRULE:FREQ=WEEKLY;COUNT=2"})};
  auto back = expandOccurrences(autumn, kYear2026, kYear2027);
  REQUIRE(back);
  CHECK(utcStarts(*back) == std::vector<std::string>{"2026-10-19T07:00:00Z", "2026-10-26T08:00:00Z"});
}

TEST_CASE("EXDATE removes occurrences in every normalised form", "[occurrences]") {
  const std::vector<Event> events = {berlinNine("s", local_days{2026y / November / 2},
                                                {"RRULE:FREQ=DAILY;COUNT=6",
                                                 "EXDATE;TZID=Europe/Berlin:20261103T090000",
                                                 "exdate:20261104T080000Z",  // lines are normalised first
                                                 "EXDATE;VALUE=DATE:20261106"})};
  auto os = expandOccurrences(events, kYear2026, kYear2027);
  REQUIRE(os);
  CHECK(localStarts(*os) ==
        std::vector<std::string>{"2026-11-02T09:00:00", "2026-11-05T09:00:00", "2026-11-07T09:00:00"});

  // an EXDATE that matches no occurrence changes nothing; a floating one is the series' wall clock
  const std::vector<Event> other = {berlinNine("t", local_days{2026y / November / 2},
                                               {"RRULE:FREQ=DAILY;COUNT=3", "EXDATE:20261103T100000",
                                                "EXDATE:20261104T090000"})};
  auto rest = expandOccurrences(other, kYear2026, kYear2027);
  REQUIRE(rest);
  CHECK(localStarts(*rest) == std::vector<std::string>{"2026-11-02T09:00:00", "2026-11-03T09:00:00"});
}

TEST_CASE("EXDATE and overrides find an occurrence whose wall-clock time DST skips", "[occurrences]") {
  // 2026-03-29 02:30 does not exist in Berlin: that occurrence is at 01:30Z (RFC 5545 §3.3.5)
  const auto day = local_days{2026y / March / 27};
  const Event master = series("g", berlin(day + 2h + 30min), berlin(day + 3h), {"RRULE:FREQ=DAILY;COUNT=4"});
  const std::vector<Event> all = {master};
  auto os = expandOccurrences(all, kYear2026, kYear2027);
  REQUIRE(os);
  CHECK(utcStarts(*os) == std::vector<std::string>{"2026-03-27T01:30:00Z", "2026-03-28T01:30:00Z",
                                                  "2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z"});
  for (const std::string exdate : {"EXDATE;TZID=Europe/Berlin:20260329T023000", "EXDATE:20260329T013000Z",
                                   "EXDATE;TZID=Europe/London:20260329T023000"}) {  // 01:30Z too
    INFO(exdate);
    Event excluded = master;
    excluded.recurrence.push_back(exdate);
    const std::vector<Event> events = {excluded};
    auto ex = expandOccurrences(events, kYear2026, kYear2027);
    REQUIRE(ex);
    CHECK(utcStarts(*ex) ==
          std::vector<std::string>{"2026-03-27T01:30:00Z", "2026-03-28T01:30:00Z", "2026-03-30T00:30:00Z"});
  }
  const std::vector<Event> moved = {
      master, overrideOf(master, ZonedTime{utc(sys_days{2026y / March / 29}, 1h + 30min), "UTC"},
                         berlin(day + days(2) + 12h), berlin(day + days(2) + 13h))};
  auto mv = expandOccurrences(moved, kYear2026, kYear2027);
  REQUIRE(mv);
  CHECK(utcStarts(*mv) == std::vector<std::string>{"2026-03-27T01:30:00Z", "2026-03-28T01:30:00Z",
                                                  "2026-03-29T10:00:00Z", "2026-03-30T00:30:00Z"});
}

TEST_CASE("RDATE adds occurrences, with their own length for a PERIOD", "[occurrences]") {
  const std::vector<Event> events = {berlinNine("s", local_days{2026y / November / 2},
                                                {"RRULE:FREQ=WEEKLY;COUNT=2",
                                                 "RDATE;TZID=Europe/Berlin:20261105T140000",
                                                 "RDATE:20261109T080000Z",  // the same as a rule occurrence: once
                                                 "RDATE;VALUE=PERIOD:20261106T120000Z/PT2H",
                                                 "RDATE;VALUE=DATE:20261120"})};
  auto os = expandOccurrences(events, kYear2026, kYear2027);
  REQUIRE(os);
  CHECK(localStarts(*os) == std::vector<std::string>{"2026-11-02T09:00:00", "2026-11-05T14:00:00",
                                                    "2026-11-06T13:00:00", "2026-11-09T09:00:00",
                                                    "2026-11-20T09:00:00"});
  CHECK((*os)[1].endInstant - (*os)[1].startInstant == 1h);  // the master's length
  CHECK((*os)[2].endInstant - (*os)[2].startInstant == 2h);  // the period's
  for (const auto& o : *os) CHECK(o.recurrenceId == std::optional<EventTime>(o.start));

  // RDATEs alone (no RRULE): DTSTART plus the dates
  const std::vector<Event> only = {berlinNine("r", local_days{2026y / November / 2},
                                              {"RDATE;TZID=Europe/Berlin:20261110T090000,20261112T090000"})};
  auto dates = expandOccurrences(only, kYear2026, kYear2027);
  REQUIRE(dates);
  CHECK(localStarts(*dates) ==
        std::vector<std::string>{"2026-11-02T09:00:00", "2026-11-10T09:00:00", "2026-11-12T09:00:00"});
}

TEST_CASE("an override replaces its occurrence; a cancelled one removes it", "[occurrences]") {
  const Event master = berlinNine("s", local_days{2026y / November / 2}, {"RRULE:FREQ=WEEKLY;COUNT=4"});
  SECTION("moved") {
    const std::vector<Event> events = {
        master, overrideOf(master, berlin(local_days{2026y / November / 9} + 9h),
                         berlin(local_days{2026y / November / 10} + 15h), berlin(local_days{2026y / November / 10} + 17h))};
    auto os = expandOccurrences(events, kYear2026, kYear2027);
    REQUIRE(os);
    CHECK(localStarts(*os) == std::vector<std::string>{"2026-11-02T09:00:00", "2026-11-10T15:00:00",
                                                      "2026-11-16T09:00:00", "2026-11-23T09:00:00"});
    CHECK((*os)[1].event == &events[1]);
    CHECK((*os)[1].endInstant - (*os)[1].startInstant == 2h);
    REQUIRE((*os)[1].recurrenceId);
    CHECK(*(*os)[1].recurrenceId == EventTime{berlin(local_days{2026y / November / 9} + 9h)});
    CHECK((*os)[0].event == &events[0]);
  }
  SECTION("recurrence id given in UTC still matches") {
    const std::vector<Event> events = {
        master, overrideOf(master, ZonedTime{utc(sys_days{2026y / November / 9}, 8h), "UTC"},
                         berlin(local_days{2026y / November / 9} + 11h), berlin(local_days{2026y / November / 9} + 12h))};
    auto os = expandOccurrences(events, kYear2026, kYear2027);
    REQUIRE(os);
    CHECK(localStarts(*os) == std::vector<std::string>{"2026-11-02T09:00:00", "2026-11-09T11:00:00",
                                                      "2026-11-16T09:00:00", "2026-11-23T09:00:00"});
  }
  SECTION("moved into the window from outside it, and out of it") {
    const std::vector<Event> events = {
        master,
        overrideOf(master, berlin(local_days{2026y / November / 2} + 9h), berlin(local_days{2026y / November / 12} + 9h),
                 berlin(local_days{2026y / November / 12} + 10h)),
        overrideOf(master, berlin(local_days{2026y / November / 16} + 9h), berlin(local_days{2026y / December / 1} + 9h),
                 berlin(local_days{2026y / December / 1} + 10h))};
    const auto from = utc(sys_days{2026y / November / 5});
    const auto to = utc(sys_days{2026y / November / 20});
    auto os = expandOccurrences(events, from, to);
    REQUIRE(os);
    CHECK(localStarts(*os) == std::vector<std::string>{"2026-11-09T09:00:00", "2026-11-12T09:00:00"});
  }
  SECTION("cancelled") {
    Event cancelled = overrideOf(master, berlin(local_days{2026y / November / 9} + 9h),
                               berlin(local_days{2026y / November / 9} + 9h), berlin(local_days{2026y / November / 9} + 10h));
    cancelled.status = Status::Cancelled;
    const std::vector<Event> events = {master, cancelled};
    auto os = expandOccurrences(events, kYear2026, kYear2027);
    REQUIRE(os);
    CHECK(localStarts(*os) == std::vector<std::string>{"2026-11-02T09:00:00", "2026-11-16T09:00:00",
                                                      "2026-11-23T09:00:00"});
  }
  SECTION("a cancelled master takes the series with it") {
    Event gone = master;
    gone.status = Status::Cancelled;
    const std::vector<Event> events = {gone, overrideOf(master, berlin(local_days{2026y / November / 9} + 9h),
                                                      berlin(local_days{2026y / November / 9} + 11h),
                                                      berlin(local_days{2026y / November / 9} + 12h))};
    auto os = expandOccurrences(events, kYear2026, kYear2027);
    REQUIRE(os);
    CHECK(os->empty());
  }
}

TEST_CASE("an override without its master is a single event", "[occurrences]") {
  const Event master = berlinNine("s", local_days{2026y / November / 2}, {"RRULE:FREQ=WEEKLY;COUNT=4"});
  const std::vector<Event> events = {overrideOf(master, berlin(local_days{2026y / November / 9} + 9h),
                                              berlin(local_days{2026y / November / 9} + 13h),
                                              berlin(local_days{2026y / November / 9} + 14h))};
  auto os = expandOccurrences(events, kYear2026, kYear2027);
  REQUIRE(os);
  REQUIRE(os->size() == 1);
  CHECK(localStarts(*os) == std::vector<std::string>{"2026-11-09T13:00:00"});
  CHECK((*os)[0].event == &events[0]);
  CHECK((*os)[0].recurrenceId == events[0].recurrenceId);
}

TEST_CASE("a single event is one occurrence without a recurrence id", "[occurrences]") {
  const std::vector<Event> events = {berlinNine("one", local_days{2026y / November / 2}, {})};
  auto os = expandOccurrences(events, kYear2026, kYear2027);
  REQUIRE(os);
  REQUIRE(os->size() == 1);
  CHECK((*os)[0].start == events[0].start);
  CHECK((*os)[0].end == events[0].end);
  CHECK_FALSE((*os)[0].recurrenceId);
}

TEST_CASE("COUNT and UNTIL in UTC bound a series", "[occurrences]") {
  const std::vector<Event> counted = {berlinNine("c", local_days{2026y / November / 2}, {"RRULE:FREQ=DAILY;COUNT=3"})};
  auto c = expandOccurrences(counted, kYear2026, kYear2027);
  REQUIRE(c);
  CHECK(c->size() == 3);

  // 09:00 Berlin is 08:00Z; UNTIL 08:30Z on the 5th includes the 5th (libical alone, comparing
  // 09:00 with 08:30 as wall-clock digits, would not)
  const std::vector<Event> until = {
      berlinNine("u", local_days{2026y / November / 2}, {"RRULE:FREQ=DAILY;UNTIL=20261105T083000Z"})};
  auto u = expandOccurrences(until, kYear2026, kYear2027);
  REQUIRE(u);
  CHECK(localStarts(*u) == std::vector<std::string>{"2026-11-02T09:00:00", "2026-11-03T09:00:00",
                                                   "2026-11-04T09:00:00", "2026-11-05T09:00:00"});

  // 23:00 in New York (EST, UTC-5) is 04:00Z the next day: UNTIL 03:59Z on the 5th ends on the 3rd
  const auto ny = [](local_seconds l) { return in("America/New_York", l); };
  const std::vector<Event> west = {series("w", ny(local_days{2026y / November / 2} + 23h),
                                          ny(local_days{2026y / November / 2} + 23h + 30min),
                                          {"RRULE:FREQ=DAILY;UNTIL=20261105T035900Z"})};
  auto w = expandOccurrences(west, kYear2026, kYear2027);
  REQUIRE(w);
  CHECK(localStarts(*w) == std::vector<std::string>{"2026-11-02T23:00:00", "2026-11-03T23:00:00"});

  // an UNTIL date on a timed series includes that day
  const std::vector<Event> dated = {berlinNine("d", local_days{2026y / November / 2}, {"RRULE:FREQ=DAILY;UNTIL=20261103"})};
  auto d = expandOccurrences(dated, kYear2026, kYear2027);
  REQUIRE(d);
  CHECK(d->size() == 2);
}

TEST_CASE("DTSTART counts as the first occurrence even when the rule does not match it", "[occurrences]") {
  // 2026-11-02 is a Monday; the rule says Tuesdays
  const std::vector<Event> events = {
      berlinNine("s", local_days{2026y / November / 2}, {"RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=3"})};
  auto os = expandOccurrences(events, kYear2026, kYear2027);
  REQUIRE(os);
  CHECK(localStarts(*os) == std::vector<std::string>{"2026-11-02T09:00:00", "2026-11-03T09:00:00",
                                                    "2026-11-10T09:00:00"});
}

TEST_CASE("all-day series: dates, whole days, anchored in the floating zone", "[occurrences]") {
  const std::vector<Event> events = {series("h", Date{2026y / December / 24}, Date{2026y / December / 26},
                                            {"RRULE:FREQ=WEEKLY;COUNT=3", "EXDATE;VALUE=DATE:20261231"})};
  auto os = expandOccurrences(events, kYear2026, utc(sys_days{2028y / January / 1}), "Europe/Berlin");
  REQUIRE(os);
  REQUIRE(os->size() == 2);
  CHECK((*os)[0].start == EventTime{Date{2026y / December / 24}});
  CHECK((*os)[0].end == EventTime{Date{2026y / December / 26}});
  CHECK((*os)[1].start == EventTime{Date{2027y / January / 7}});
  CHECK((*os)[1].end == EventTime{Date{2027y / January / 9}});
  CHECK(formatUtc((*os)[0].startInstant) == "2026-12-23T23:00:00Z");
  CHECK(formatUtc((*os)[0].endInstant) == "2026-12-25T23:00:00Z");
  CHECK((*os)[1].recurrenceId == std::optional<EventTime>(Date{2027y / January / 7}));

  const std::vector<Event> daily = {series("d", Date{2026y / March / 28}, Date{2026y / March / 29},
                                           {"RRULE:FREQ=DAILY;UNTIL=20260330"})};
  auto d = expandOccurrences(daily, kYear2026, kYear2027, "Europe/Berlin");
  REQUIRE(d);
  REQUIRE(d->size() == 3);
  CHECK((*d)[2].start == EventTime{Date{2026y / March / 30}});
  CHECK((*d)[1].endInstant - (*d)[1].startInstant == 23h);  // the day summer time starts
}

TEST_CASE("floating series keep their wall clock, anchored in the floating zone", "[occurrences]") {
  const auto day = local_days{2026y / July / 1};
  const std::vector<Event> events = {
      series("f", FloatingTime{day + 8h}, FloatingTime{day + 8h + 30min}, {"RRULE:FREQ=DAILY;COUNT=2"})};
  auto nyc = expandOccurrences(events, kYear2026, kYear2027, "America/New_York");
  REQUIRE(nyc);
  REQUIRE(nyc->size() == 2);
  CHECK((*nyc)[1].start == EventTime{FloatingTime{day + days(1) + 8h}});
  CHECK((*nyc)[1].end == EventTime{FloatingTime{day + days(1) + 8h + 30min}});
  CHECK(formatUtc((*nyc)[0].startInstant) == "2026-07-01T12:00:00Z");
  auto plain = expandOccurrences(events, kYear2026, kYear2027);
  REQUIRE(plain);
  CHECK(utcStarts(*plain) == std::vector<std::string>{"2026-07-01T08:00:00Z", "2026-07-02T08:00:00Z"});

  CHECK_FALSE(expandOccurrences(events, kYear2026, kYear2027, "Mars/Olympus_Mons"));
}

TEST_CASE("the window clips: what overlaps it is in, what only touches it is out", "[occurrences]") {
  // daily 09:00-11:00 Berlin (08:00Z-10:00Z)
  const auto day = local_days{2026y / November / 2};
  const std::vector<Event> events = {series("s", berlin(day + 9h), berlin(day + 11h), {"RRULE:FREQ=DAILY"})};
  const auto from = utc(sys_days{2026y / November / 3}, 9h);  // inside the 3rd's occurrence
  const auto to = utc(sys_days{2026y / November / 5}, 8h);    // the 5th starts exactly here
  auto os = expandOccurrences(events, from, to);
  REQUIRE(os);
  CHECK(localStarts(*os) == std::vector<std::string>{"2026-11-03T09:00:00", "2026-11-04T09:00:00"});

  auto touching = expandOccurrences(events, utc(sys_days{2026y / November / 3}, 10h), to);  // the 3rd ends here
  REQUIRE(touching);
  CHECK(localStarts(*touching) == std::vector<std::string>{"2026-11-04T09:00:00"});

  CHECK(expandOccurrences(events, to, to)->empty());
  auto reversed = expandOccurrences(events, to, from);
  REQUIRE_FALSE(reversed);
  CHECK(reversed.error().code == ErrorCode::Invalid);
}

TEST_CASE("a window long after DTSTART gives the same occurrences as expanding from DTSTART", "[occurrences]") {
  // libical's set_start is used for DAILY and coarser rules; sub-daily ones start from a later DTSTART
  const auto from = utc(sys_days{2026y / March / 1}, 9h + 31min);
  const auto to = utc(sys_days{2026y / March / 20});
  for (const std::string rule :
       {"FREQ=WEEKLY;INTERVAL=2", "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,WE", "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15,31",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=3", "FREQ=DAILY;INTERVAL=3", "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=2,9",
        "FREQ=HOURLY;INTERVAL=5", "FREQ=HOURLY;INTERVAL=5;BYDAY=MO,TU", "FREQ=MINUTELY;INTERVAL=7;BYHOUR=9,10",
        "FREQ=DAILY;INTERVAL=4;UNTIL=20260315T000000Z", "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9,14",
        "FREQ=DAILY;INTERVAL=2;BYMONTHDAY=-1,1,2,3,4,5,6,7"}) {
    INFO(rule);
    const std::vector<Event> events = {
        series("s", berlin(local_days{2025y / December / 30} + 9h + 15min),
               berlin(local_days{2025y / December / 30} + 10h), {"RRULE:" + rule})};
    auto late = expandOccurrences(events, from, to, "UTC", {.maxOccurrences = 10'000'000});
    auto all = expandOccurrences(events, kYear2026 - days(30), to, "UTC", {.maxOccurrences = 10'000'000});
    REQUIRE(late);
    REQUIRE(all);
    std::vector<std::string> expected;
    for (const auto& o : *all) {
      if (o.endInstant > from) expected.push_back(formatUtc(o.startInstant));
    }
    CHECK_FALSE(expected.empty());
    CHECK(utcStarts(*late) == expected);
  }
  for (const std::string rule : {"FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "FREQ=MONTHLY;BYMONTHDAY=-1,2", "FREQ=DAILY;INTERVAL=9",
                                 "FREQ=DAILY;INTERVAL=3;BYDAY=SA,SU"}) {
    INFO(rule);
    const std::vector<Event> events = {series("d", Date{2023y / June / 6}, Date{2023y / June / 8}, {"RRULE:" + rule})};
    auto late = expandOccurrences(events, from, to, "Europe/Berlin");
    auto all = expandOccurrences(events, utc(sys_days{2023y / January / 1}), to, "Europe/Berlin");
    REQUIRE(late);
    REQUIRE(all);
    std::vector<std::string> expected;
    for (const auto& o : *all) {
      if (o.endInstant > from) expected.push_back(formatDate(std::get<Date>(o.start).day));
    }
    std::vector<std::string> got;
    for (const auto& o : *late) got.push_back(formatDate(std::get<Date>(o.start).day));
    CHECK_FALSE(expected.empty());
    CHECK(got == expected);
  }
}

TEST_CASE("runaway rules stop at the limit", "[occurrences]") {
  const auto day = local_days{2026y / November / 2};
  const std::vector<Event> minutely = {series("m", berlin(day), berlin(day + 1min), {"RRULE:FREQ=MINUTELY"})};
  auto limited = expandOccurrences(minutely, kYear2026, kYear2027, "UTC", {.maxOccurrences = 100});
  REQUIRE(limited);
  CHECK(limited->size() == 100);
  auto byDefault = expandOccurrences(minutely, kYear2026, kYear2027);
  REQUIRE(byDefault);
  CHECK(byDefault->size() == 5000);
  // an unbounded rule stops at the window's end without reaching the limit
  auto oneHour = expandOccurrences(minutely, berlin(day).instant, berlin(day + 1h).instant);
  REQUIRE(oneHour);
  CHECK(oneHour->size() == 60);

  const std::vector<Event> huge = {series("h", berlin(day), berlin(day + 1s), {"RRULE:FREQ=SECONDLY;COUNT=999999"})};
  auto h = expandOccurrences(huge, kYear2026, kYear2027);
  REQUIRE(h);
  CHECK(h->size() == 5000);
}

TEST_CASE("DAILY rules with limiting parts, negative month days included", "[occurrences]") {
  const std::vector<Event> ends = {
      berlinNine("e", local_days{2026y / January / 1}, {"RRULE:FREQ=DAILY;BYMONTHDAY=1,-1;BYMONTH=2,3"})};
  auto e = expandOccurrences(ends, kYear2026, kYear2027);
  REQUIRE(e);
  CHECK(localStarts(*e) == std::vector<std::string>{"2026-01-01T09:00:00", "2026-02-01T09:00:00",
                                                   "2026-02-28T09:00:00", "2026-03-01T09:00:00",
                                                   "2026-03-31T09:00:00"});
  const std::vector<Event> weekdays = {
      berlinNine("w", local_days{2026y / November / 6}, {"RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=4"})};
  auto w = expandOccurrences(weekdays, kYear2026, kYear2027);
  REQUIRE(w);
  CHECK(localStarts(*w) == std::vector<std::string>{"2026-11-06T09:00:00", "2026-11-09T09:00:00",
                                                   "2026-11-10T09:00:00", "2026-11-11T09:00:00"});
}

TEST_CASE("sub-daily rules with limiting parts", "[occurrences]") {
  const auto day = local_days{2026y / November / 2};  // a Monday
  const std::vector<Event> noon = {series("n", berlin(day + 9h + 15min), berlin(day + 9h + 25min),
                                          {"RRULE:FREQ=HOURLY;BYMINUTE=0,30;BYHOUR=12;COUNT=5"})};
  auto n = expandOccurrences(noon, kYear2026, kYear2027);
  REQUIRE(n);
  CHECK(localStarts(*n) == std::vector<std::string>{"2026-11-02T09:15:00", "2026-11-02T12:00:00",
                                                   "2026-11-02T12:30:00", "2026-11-03T12:00:00",
                                                   "2026-11-03T12:30:00"});

  const std::vector<Event> wednesdays = {
      series("w", berlin(day), berlin(day + 10min), {"RRULE:FREQ=MINUTELY;INTERVAL=20;BYDAY=WE;BYHOUR=8"})};
  auto w = expandOccurrences(wednesdays, berlin(day).instant, berlin(day + days(10)).instant);
  REQUIRE(w);
  CHECK(localStarts(*w) == std::vector<std::string>{"2026-11-02T00:00:00", "2026-11-04T08:00:00",
                                                   "2026-11-04T08:20:00", "2026-11-04T08:40:00",
                                                   "2026-11-11T08:00:00", "2026-11-11T08:20:00",
                                                   "2026-11-11T08:40:00"});

  // rare days are reached at once, not second by second
  const std::vector<Event> leap = {series("l", berlin(day), berlin(day + 1s),
                                          {"RRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=10;BYMINUTE=0"})};
  auto l = expandOccurrences(leap, kYear2026, utc(sys_days{2029y / January / 1}));
  REQUIRE(l);
  REQUIRE(l->size() == 61);  // DTSTART, and 10:00:00 to 10:00:59 on 2028-02-29
  CHECK(localStarts(*l)[1] == "2028-02-29T10:00:00");
  CHECK(localStarts(*l)[60] == "2028-02-29T10:00:59");  // second by second, the limit would end it first
}

TEST_CASE("rules that can never occur are Invalid at once", "[occurrences]") {
  // libical alone searches up to the year 2582 for these: minutes for a sub-daily rule
  const auto day = local_days{2026y / November / 2};
  for (const std::string rule : {"FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30", "FREQ=SECONDLY;BYMONTHDAY=31;BYMONTH=4",
                                 "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=2",
                                 "FREQ=HOURLY;BYYEARDAY=366;BYMONTH=1"}) {
    INFO(rule);
    const std::vector<Event> events = {series("x", berlin(day), berlin(day + 1min), {"RRULE:" + rule})};
    auto os = expandOccurrences(events, kYear2026, kYear2027);  // at once (bench-free: no timing here)
    REQUIRE_FALSE(os);
    CHECK(os.error().code == ErrorCode::Invalid);
  }
  // an all-day series repeating more often than daily (libical searched 20 s per occurrence: fuzzing)
  const std::vector<Event> allDay = {series("d", Date{2026y / December / 24}, Date{2026y / December / 25},
                                            {"RRULE:FREQ=HOURLY;BYDAY=-1SU;BYMONTH=3"})};
  auto hourly = expandOccurrences(allDay, kYear2026, kYear2027);
  REQUIRE_FALSE(hourly);
  CHECK(hourly.error().code == ErrorCode::Invalid);
  // an impossible sub-daily time (second 60 never comes) ends the rule quietly
  const std::vector<Event> never = {series("s", berlin(day), berlin(day + 1s), {"RRULE:FREQ=SECONDLY;BYSECOND=60"})};
  auto os = expandOccurrences(never, kYear2026, kYear2027);
  REQUIRE(os);
  CHECK(os->size() == 1);
}

TEST_CASE("malformed recurrence is Invalid, not an exception", "[occurrences]") {
  const auto day = local_days{2026y / November / 2};
  for (const std::string line :
       {"RRULE:FREQ=DAILY;COUNT=0", "RRULE:FREQ=FORTNIGHTLY", "RRULE:FREQ=DAILY;X-NAME=secret",
        "RRULE:FREQ=MONTHLY;BYWEEKNO=3", "RRULE:FREQ=DAILY;COUNT=2;UNTIL=20261110T000000Z",
        "RRULE:FREQ=DAILY;BYMONTHDAY=40", "EXDATE:20261332T090000", "RDATE;VALUE=PERIOD:20261105T090000Z/PT1HD",
        "SUMMARY:not a recurrence line"}) {
    INFO(line);
    const std::vector<Event> events = {series("bad", berlin(day + 9h), berlin(day + 10h), {line}),
                                       berlinNine("good", day, {})};
    auto os = expandOccurrences(events, kYear2026, kYear2027);
    REQUIRE_FALSE(os);
    CHECK(os.error().code == ErrorCode::Invalid);
    CHECK(os.error().message.find("event bad") != std::string::npos);
  }
}

TEST_CASE("several series and single events come out merged in start order", "[occurrences]") {
  const auto day = local_days{2026y / November / 2};
  const Event weekly = series("w", berlin(day + 10h), berlin(day + 11h), {"RRULE:FREQ=WEEKLY;COUNT=2"});
  const std::vector<Event> events = {
      weekly,
      series("d", berlin(day + 8h), berlin(day + 9h), {"RRULE:FREQ=DAILY;COUNT=2"}),
      overrideOf(weekly, berlin(day + days(7) + 10h), berlin(day + 7h), berlin(day + 7h + 30min)),  // moved earliest
      series("one", berlin(day + 9h), berlin(day + 12h), {}),
  };
  auto os = expandOccurrences(events, kYear2026, kYear2027);
  REQUIRE(os);
  CHECK(localStarts(*os) == std::vector<std::string>{"2026-11-02T07:00:00", "2026-11-02T08:00:00",
                                                    "2026-11-02T09:00:00", "2026-11-02T10:00:00",
                                                    "2026-11-03T08:00:00"});
  CHECK((*os)[0].event == &events[2]);
  CHECK((*os)[2].event == &events[3]);
  CHECK((*os)[3].event == &events[0]);
}

// ---- the event model's time helpers and provider kinds

TEST_CASE("wall-clock times in a zone follow RFC 5545 across DST changes", "[providers][time]") {
  // Europe/Berlin, 2026-03-29: 02:00 -> 03:00 (gap); 2026-10-25: 03:00 -> 02:00 (overlap)
  const auto gap = zonedFromLocal(local_days{2026y / March / 29} + 2h + 30min, "Europe/Berlin");
  REQUIRE(gap);
  CHECK(formatUtc(gap->instant) == "2026-03-29T01:30:00Z");  // offset before the gap (+01:00)
  const auto overlap = zonedFromLocal(local_days{2026y / October / 25} + 2h + 30min, "Europe/Berlin");
  REQUIRE(overlap);
  CHECK(formatUtc(overlap->instant) == "2026-10-25T00:30:00Z");  // first occurrence (+02:00)
  const auto winter = zonedFromLocal(local_days{2026y / November / 21} + 10h, "America/New_York");
  REQUIRE(winter);
  CHECK(formatUtc(winter->instant) == "2026-11-21T15:00:00Z");
  CHECK(formatLocal(localTimeOf(*winter)) == "2026-11-21T10:00:00");
  CHECK_FALSE(zonedFromLocal(local_days{2026y / 1 / 1}, "Mars/Olympus_Mons"));
}


TEST_CASE("provider kinds are printed and parsed by one function pair; anything else is an error",
          "[model][provider]") {
  for (const auto kind : kProviderKinds) {
    INFO(toString(kind));
    CHECK(parseProviderKind(toString(kind)) == kind);
  }
  CHECK(toString(ProviderKind::Google) == "google");
  CHECK(toString(ProviderKind::Microsoft) == "microsoft");
  CHECK(toString(ProviderKind::CalDav) == "caldav");
  for (const std::string bad : {"", "CalDAV", "Google", " caldav", "caldav ", "icloud", "exchange"}) {
    INFO(bad);
    auto parsed = parseProviderKind(bad);
    REQUIRE_FALSE(parsed);  // never a default
    CHECK(parsed.error().code == calgate::core::ErrorCode::Invalid);
    CHECK_THAT(parsed.error().message, Catch::Contains("caldav, google, microsoft"));
  }
  CHECK(providerKindList() == "caldav, google, microsoft");
}
