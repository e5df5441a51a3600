// Availability feeds: tokens and their PIN lockout on both SQLite and PostgreSQL ([store]), the
// busy-only rendering and PIN hashing.
#include "calgate/accounts/user_store.hpp"
#include "calgate/core/hash.hpp"
#include "calgate/feeds/busy_calendar.hpp"
#include "calgate/feeds/feed_store.hpp"
#include "calgate/feeds/pin_hash.hpp"
#include "support/migrated_database.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include <thread>

using namespace calgate;
using namespace calgate::accounts;
using namespace calgate::store;
using namespace std::chrono;

namespace {

struct Fixture : test::MigratedDatabase {
  UserStore users{t.db(), clock};
  feeds::FeedStore feedStore{t.db(), clock};
};

}  // namespace

TEST_CASE("feed tokens are stored hashed and stop working when revoked", "[store][feeds]") {
  Fixture f;
  auto user = f.users.addUser("feed@example.com", "t");
  REQUIRE(user);
  auto issued = f.feedStore.create({user->first.id, "Away", {"cal_a", "cal_b"}, 3, 30, std::nullopt});
  REQUIRE(issued);
  CHECK(issued->token.starts_with("cgf_"));
  CHECK(f.count("SELECT COUNT(*) FROM feeds WHERE token_sha256 = '" + core::sha256Hex(issued->token) + "'") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM feeds WHERE token_sha256 = '" + issued->token + "'") == 0);
  auto found = f.feedStore.findByToken(issued->token);
  REQUIRE(found);
  CHECK(found->calendarIds == std::vector<std::string>{"cal_a", "cal_b"});
  CHECK_FALSE(found->pinProtected);
  CHECK_FALSE(f.feedStore.findByToken("cgf_unknown"));
  CHECK_FALSE(f.feedStore.findByToken("not-a-token"));
  REQUIRE(f.feedStore.revoke(found->id));
  CHECK(f.feedStore.findByToken(issued->token).error().code == core::ErrorCode::NotFound);
  CHECK(f.feedStore.get(found->id)->revokedAt);

  CHECK_FALSE(f.feedStore.create({user->first.id, "x", {}, 3, 30, std::nullopt}));        // no calendars
  CHECK_FALSE(f.feedStore.create({user->first.id, "x", {"c"}, 91, 30, std::nullopt}));    // window
  CHECK_FALSE(f.feedStore.create({user->first.id, "x", {"c"}, 3, 30, std::string("12a4")}));  // PIN
}

TEST_CASE("wrong feed PINs lock the feed, doubling, and the right one resets the count", "[store][feeds]") {
  Fixture f;
  auto user = f.users.addUser("pin@example.com", "t");
  REQUIRE(user);
  auto issued = f.feedStore.create({user->first.id, "Busy", {"cal_a"}, 3, 30, std::string("2468")});
  REQUIRE(issued);
  const std::string id = issued->feed.id;
  CHECK(issued->feed.pinProtected);
  CHECK(f.count("SELECT COUNT(*) FROM feeds WHERE pin_scrypt LIKE '%2468%'") == 0);
  CHECK(f.feedStore.checkPin(id, "2468", "198.51.100.7")->accepted);
  for (int i = 1; i < feeds::kPinAttempts; ++i) {
    auto c = f.feedStore.checkPin(id, "0000", "198.51.100.7");
    REQUIRE(c);
    CHECK_FALSE(c->accepted);
    CHECK_FALSE(c->lockedFor);
  }
  CHECK(f.feedStore.checkPin(id, "2468", "198.51.100.7")->accepted);  // resets the count
  for (int i = 1; i < feeds::kPinAttempts; ++i) REQUIRE_FALSE(f.feedStore.checkPin(id, "1111", "198.51.100.7")->lockedFor);
  auto locked = f.feedStore.checkPin(id, "1111", "198.51.100.7");
  REQUIRE(locked->lockedFor);
  CHECK(*locked->lockedFor == feeds::kFirstLock);
  auto stillLocked = f.feedStore.checkPin(id, "2468", "198.51.100.7");  // even the right PIN while locked
  CHECK_FALSE(stillLocked->accepted);
  CHECK(stillLocked->lockedFor);
  f.clock.advance(feeds::kFirstLock + seconds(1));
  for (int i = 1; i < feeds::kPinAttempts; ++i) REQUIRE_FALSE(f.feedStore.checkPin(id, "1111", "198.51.100.7")->lockedFor);
  auto second = f.feedStore.checkPin(id, "1111", "198.51.100.7");
  REQUIRE(second->lockedFor);
  CHECK(*second->lockedFor == 2 * feeds::kFirstLock);
  f.clock.advance(2 * feeds::kFirstLock + seconds(1));
  CHECK(f.feedStore.checkPin(id, "2468", "198.51.100.7")->accepted);
}

TEST_CASE("a stranger's wrong PINs lock out the stranger, never the owner's viewers", "[store][feeds]") {
  Fixture f;
  auto user = f.users.addUser("viewers@example.com", "t");
  REQUIRE(user);
  auto issued = f.feedStore.create({user->first.id, "Busy", {"cal_a"}, 3, 30, std::string("2468")});
  REQUIRE(issued);
  const std::string id = issued->feed.id;
  for (int i = 0; i < feeds::kPinAttempts; ++i) (void)f.feedStore.checkPin(id, "0000", "203.0.113.66");
  auto stranger = f.feedStore.checkPin(id, "2468", "203.0.113.66");
  CHECK_FALSE(stranger->accepted);
  CHECK(stranger->lockedFor);
  CHECK(f.feedStore.checkPin(id, "2468", "198.51.100.7")->accepted);           // the owner's viewer
  CHECK(f.feedStore.checkPin(id, "2468", "2001:db8:1:2::5")->accepted);        // another one
  // an IPv6 client is its /64: rotating through its own addresses gains nothing
  for (int i = 0; i < feeds::kPinAttempts; ++i) {
    (void)f.feedStore.checkPin(id, "0000", "2001:db8:aa:bb::" + std::to_string(i + 1));
  }
  CHECK(f.feedStore.checkPin(id, "2468", "2001:db8:aa:bb::ffff")->lockedFor);
  CHECK(f.count("SELECT COUNT(*) FROM feed_pin_attempts WHERE client LIKE '%203.0.113%'") == 0);  // no addresses kept
}

TEST_CASE("concurrent wrong PINs get at most the allowed guesses before the lock", "[store][feeds]") {
  Fixture f;
  auto user = f.users.addUser("race@example.com", "t");
  REQUIRE(user);
  auto issued = f.feedStore.create({user->first.id, "Busy", {"cal_a"}, 3, 30, std::string("97531")});
  REQUIRE(issued);
  std::atomic<int> judged{0}, locked{0}, errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 12; ++i) {
    threads.emplace_back([&] {
      auto c = f.feedStore.checkPin(issued->feed.id, "11111", "198.51.100.7");
      if (!c) ++errors;
      else if (c->lockedFor) ++locked;
      else ++judged;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(errors == 0);
  CHECK(judged == feeds::kPinAttempts - 1);  // the 5th guess is judged too, and answered with the lock
  CHECK(locked == 12 - (feeds::kPinAttempts - 1));
  CHECK_FALSE(f.feedStore.checkPin(issued->feed.id, "97531", "198.51.100.7")->accepted);  // still locked for the right PIN
}

// ---- the busy-only rendering and PIN hashing (no database)

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

TEST_CASE("a feed is never cut short: too many busy blocks, or a series of 100,000 occurrences, is an error",
          "[feeds][budget]") {
  const sys_seconds now = sys_days{2026y / November / 21} + hours(9);
  const providers::TimeWindow window{now - days(1), now + days(60)};
  model::Event minutely;
  minutely.id = "flood";
  minutely.title = "Flood";
  minutely.start = model::ZonedTime{now, "UTC"};
  minutely.end = model::ZonedTime{now + minutes(1), "UTC"};
  minutely.recurrence = {"RRULE:FREQ=MINUTELY;COUNT=100000"};
  auto flood = feeds::busyBlocks({minutely}, window, "fed_x|cal_y", "UTC");
  REQUIRE_FALSE(flood);
  CHECK(flood.error().cause == core::Cause::BudgetExceeded);

  // 30 daily events: fine within 30 blocks, an error (not the first 29) within 29
  std::vector<model::Event> daily;
  for (int i = 0; i < 30; ++i) {
    model::Event e;
    e.id = "d" + std::to_string(i);
    e.title = "Day";
    e.start = model::ZonedTime{now + days(i), "UTC"};
    e.end = model::ZonedTime{now + days(i) + hours(1), "UTC"};
    daily.push_back(e);
  }
  auto all = feeds::busyBlocks(daily, window, "fed_x|cal_y", "UTC", 30);
  REQUIRE(all);
  CHECK(all->size() == 30);
  auto over = feeds::busyBlocks(daily, window, "fed_x|cal_y", "UTC", 29);
  REQUIRE_FALSE(over);
  CHECK(over.error().cause == core::Cause::BudgetExceeded);
  CHECK_THAT(over.error().message, Catch::Contains("more than 29 busy blocks"));
}

TEST_CASE("retention: revoked feeds go after their period, stale PIN counters after a day; the PIN client key is keyed",
          "[store][feeds]") {
  Fixture f;
  auto user = f.users.addUser("keep@example.com", "t");
  REQUIRE(user);
  auto kept = f.feedStore.create({user->first.id, "Busy", {"cal_a"}, 3, 30, std::string("2468")});
  auto revoked = f.feedStore.create({user->first.id, "Busy", {"cal_b"}, 3, 30, std::nullopt});
  REQUIRE(kept);
  REQUIRE(revoked);
  REQUIRE(f.feedStore.revoke(revoked->feed.id));
  // a wrong PIN counted under a keyed client key: neither the address nor its plain hash is stored
  const std::string key(32, 'p');
  REQUIRE(f.feedStore.checkPin(kept->feed.id, "0000", "198.51.100.7", key));
  CHECK(f.count("SELECT COUNT(*) FROM feed_pin_attempts WHERE client LIKE 'k1:%'") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM feed_pin_attempts WHERE client LIKE '%198.51%'") == 0);
  const long long now = f.clock.nowUnixSeconds();
  // within their periods nothing goes
  auto purged = f.feedStore.purge(now - 90 * 86400, now - 86400);
  REQUIRE(purged);
  CHECK(*purged == 0);
  // 100 days on: the revoked feed and the untouched counter go, the live feed stays
  f.clock.advance(hours(24 * 100));
  const long long later = f.clock.nowUnixSeconds();
  purged = f.feedStore.purge(later - 90 * 86400, later - 86400);
  REQUIRE(purged);
  CHECK(*purged == 2);
  CHECK(f.feedStore.get(kept->feed.id));
  CHECK_FALSE(f.feedStore.get(revoked->feed.id));
  CHECK(f.count("SELECT COUNT(*) FROM feed_pin_attempts") == 0);
}
