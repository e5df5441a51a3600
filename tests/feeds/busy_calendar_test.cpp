// The availability feed renderer (busy blocks only) and feed PIN hashing.

#include "calgate/feeds/busy_calendar.hpp"
#include "calgate/feeds/pin_hash.hpp"

#include <catch2/catch.hpp>

using namespace calgate;
using namespace std::chrono;

TEST_CASE("feed PINs are scrypt hashes checked in constant time", "[api][feeds]") {
  const auto h = feeds::hashPin("4711");
  CHECK(h.starts_with("scrypt$16384$8$1$"));
  CHECK(h.find("4711") == std::string::npos);
  CHECK(feeds::verifyPin("4711", h));
  CHECK_FALSE(feeds::verifyPin("4712", h));
  CHECK_FALSE(feeds::verifyPin("4711", "scrypt$99999999999$8$1$AAAA$AAAA"));  // bounded parameters
  CHECK_FALSE(feeds::verifyPin("4711", "garbage"));
  CHECK(feeds::hashPin("4711") != h);  // salted
}

TEST_CASE("the availability feed holds busy blocks and nothing of the events", "[api][feeds]") {
  using model::Event;
  auto zoned = [](sys_seconds t) { return model::ZonedTime{t, "Europe/Berlin"}; };
  const sys_seconds now = sys_days(2026y / November / 23) + 8h;
  std::vector<Event> events;
  Event weekly;
  weekly.id = "/cal/weekly-secret-uid.ics";
  weekly.uid = "weekly-secret-uid";
  weekly.title = "Merger with Initech";
  weekly.description = "confidential notes";
  weekly.location = "Board room 7";
  weekly.attendees = {"ceo@initech.example"};
  weekly.organizer = "boss@initech.example";
  weekly.start = zoned(now + 1h);
  weekly.end = zoned(now + 2h);
  weekly.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=4"};
  events.push_back(weekly);
  Event moved = weekly;  // the second occurrence moved by a day
  moved.recurrence.clear();
  moved.recurrenceId = zoned(now + 1h + days(7));
  moved.start = zoned(now + 1h + days(8));
  moved.end = zoned(now + 2h + days(8));
  events.push_back(moved);
  Event free;
  free.id = "free";
  free.title = "Lunch (free)";
  free.showAs = model::ShowAs::Free;
  free.start = zoned(now + 3h);
  free.end = zoned(now + 4h);
  events.push_back(free);
  Event cancelled = free;
  cancelled.id = "cancelled";
  cancelled.showAs = model::ShowAs::Busy;
  cancelled.status = model::Status::Cancelled;
  events.push_back(cancelled);
  Event allDay;
  allDay.id = "offsite";
  allDay.title = "Offsite";
  allDay.start = model::Date{2026y / November / 25};
  allDay.end = model::Date{2026y / November / 27};
  events.push_back(allDay);

  const providers::TimeWindow window{now - days(1), now + days(60)};
  auto blocks = feeds::busyBlocks(events, window, "fed_x|cal_y", "Europe/Berlin");
  REQUIRE(blocks);
  CHECK(blocks->size() == 5);  // 4 weekly occurrences (one moved) + the all-day block
  auto copy = *blocks;
  copy.insert(copy.end(), blocks->begin(), blocks->end());  // the same calendar twice: de-duplicated
  const std::string ics = feeds::renderBusyCalendar(copy, "Not available", now);
  std::size_t n = 0;
  for (auto at = ics.find("BEGIN:VEVENT"); at != std::string::npos; at = ics.find("BEGIN:VEVENT", at + 1)) ++n;
  CHECK(n == 5);
  CHECK(ics.find("DTSTART:20261123T090000Z") != std::string::npos);  // 10:00 in Berlin
  CHECK(ics.find("DTSTART:20261130T090000Z") == std::string::npos);  // not the moved occurrence's original time
  CHECK(ics.find("DTSTART:20261201T090000Z") != std::string::npos);  // ... but its new one
  CHECK(ics.find("DTSTART;VALUE=DATE:20261125") != std::string::npos);
  CHECK(ics.find("DTEND;VALUE=DATE:20261127") != std::string::npos);
  CHECK(ics.find("SUMMARY:Not available") != std::string::npos);
  for (const char* secret : {"Merger", "Initech", "initech", "confidential", "Board", "secret", "Lunch", "Offsite",
                             "DESCRIPTION", "LOCATION", "ATTENDEE", "ORGANIZER", "RRULE", "RECURRENCE-ID"}) {
    INFO(secret);
    CHECK(ics.find(secret) == std::string::npos);
  }
  for (std::size_t start = 0; start < ics.size();) {  // every line CRLF-terminated and at most 75 octets
    const auto end = ics.find("\r\n", start);
    REQUIRE(end != std::string::npos);
    CHECK(end - start <= 75);
    start = end + 2;
  }
  const std::string longLabel = feeds::renderBusyCalendar({}, std::string(90, 'x') + ";,", now);
  CHECK(longLabel.find("\r\n x") != std::string::npos);  // folded
  CHECK(longLabel.find("\\;\\,") != std::string::npos);  // escaped
}
