// REST plumbing without a socket: route parameters with suffixes, the token bucket, strict JSON
// bodies, query strings, field problems; and the availability feed renderer (busy blocks only).

#include "api/json_input.hpp"
#include "calgate/gateway/feeds/busy_calendar.hpp"
#include "calgate/gateway/feeds/pin_hash.hpp"
#include "calgate/gateway/http/rate_limiter.hpp"
#include "calgate/gateway/http/router.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace calgate;
using namespace calgate::gateway;
using namespace std::chrono;

namespace {

http::Request jsonRequest(std::string body, std::string type = "application/json") {
  http::Request r;
  r.method = "POST";
  r.path = "/v1/x";
  r.headers = {{"content-type", std::move(type)}};
  r.body = std::move(body);
  return r;
}

std::string slugOf(const http::Response& r) {
  return nlohmann::json::parse(r.body)["type"].get<std::string>().substr(std::string("urn:calgate:problem:").size());
}

}  // namespace

TEST_CASE("a route parameter may carry a literal suffix", "[api][router]") {
  http::Router router;
  router.add({"GET", "/feeds/{token}.ics", false, [](http::Request&) { return http::Response::json(200, "{}"); }});
  auto m = router.match("GET", "/feeds/cgf_abc.ics");
  REQUIRE(m.kind == http::RouteMatch::Kind::Found);
  CHECK(m.params.at("token") == "cgf_abc");
  CHECK(router.match("GET", "/feeds/cgf_abc").kind == http::RouteMatch::Kind::NotFound);
  CHECK(router.match("GET", "/feeds/.ics").kind == http::RouteMatch::Kind::NotFound);
  CHECK(router.match("GET", "/feeds/a.ics/x").kind == http::RouteMatch::Kind::NotFound);
}

TEST_CASE("the token bucket allows a burst, then paces, per key", "[api][ratelimit]") {
  http::RateLimiter limiter(60);  // one a second, bursts of 60
  for (int i = 0; i < 60; ++i) REQUIRE_FALSE(limiter.take("a", 100.0));
  auto wait = limiter.take("a", 100.0);
  REQUIRE(wait);
  CHECK(wait->count() == 1);
  CHECK_FALSE(limiter.take("b", 100.0));  // another token is not affected
  CHECK_FALSE(limiter.take("a", 101.0));  // one more after a second
  CHECK(limiter.take("a", 101.0));
  http::RateLimiter off(0);
  for (int i = 0; i < 1000; ++i) REQUIRE_FALSE(off.take("a", 1.0));
  http::RateLimiter small(60, 2);  // bounded memory: idle buckets are dropped
  CHECK_FALSE(small.take("x", 0.0));
  CHECK_FALSE(small.take("y", 0.0));
  CHECK_FALSE(small.take("z", 1000.0));
}

TEST_CASE("JSON bodies are read strictly", "[api][json]") {
  CHECK(api::readJsonObject(jsonRequest("{}")).has_value());
  CHECK(api::readJsonObject(jsonRequest("{}", "application/json; charset=utf-8")).has_value());
  auto r = api::readJsonObject(jsonRequest("{}", "text/plain"));
  REQUIRE_FALSE(r);
  CHECK(r.error().status == 415);
  r = api::readJsonObject(jsonRequest("{\"a\":"));
  REQUIRE_FALSE(r);
  CHECK(slugOf(r.error()) == "invalid-json");
  r = api::readJsonObject(jsonRequest("[1,2]"));
  REQUIRE_FALSE(r);
  CHECK(slugOf(r.error()) == "invalid-json");
  r = api::readJsonObject(jsonRequest(std::string(20, '[') + std::string(20, ']')));
  REQUIRE_FALSE(r);
  CHECK(slugOf(r.error()) == "invalid-json");
  r = api::readJsonObject(jsonRequest("{\"a\":\"" + std::string(70000, 'x') + "\"}"));
  REQUIRE_FALSE(r);
  CHECK(r.error().status == 413);

  const auto body = nlohmann::json::parse(
      R"({"name":"ok","n":5,"big":99999999999999999999,"flag":true,"bad":"a\u0001b","w":{"x":1},"list":["a","a"]})");
  api::ObjectReader in(body);
  auto unknown = in.only({"name"});
  REQUIRE_FALSE(unknown);
  CHECK(slugOf(unknown.error()) == "unknown-field");
  CHECK(nlohmann::json::parse(unknown.error().body)["field"] != "name");
  CHECK(in.requiredString("name", 1, 10).value() == "ok");
  auto missing = in.requiredString("nope", 1, 10);
  REQUIRE_FALSE(missing);
  CHECK(slugOf(missing.error()) == "missing-field");
  CHECK(slugOf(in.requiredString("n", 1, 10).error()) == "invalid-field");
  CHECK(slugOf(in.optionalString("bad", 0, 10).error()) == "invalid-field");  // control character
  CHECK(in.optionalInteger("n", 1, 5).value() == 5);
  CHECK_FALSE(in.optionalInteger("n", 6, 9));
  CHECK_FALSE(in.optionalInteger("big", 0, 100));
  CHECK_FALSE(in.optionalInteger("flag", 0, 100));
  CHECK(in.optionalBool("flag").value() == true);
  CHECK_FALSE(in.optionalEnum("name", {"a", "b"}));
  auto nested = in.optionalObject("w");
  REQUIRE(nested);
  auto inner = (*nested)->only({"y"});
  REQUIRE_FALSE(inner);
  CHECK(nlohmann::json::parse(inner.error().body)["field"] == "w.x");
  CHECK_FALSE(in.requiredStringList("list", 5, 10));  // repeated entry
}

TEST_CASE("query strings are decoded and bounded", "[api][query]") {
  auto q = api::parseQuery("limit=5&pin=12%2034&x");
  REQUIRE(q);
  REQUIRE(q->size() == 3);
  CHECK((*q)[1].second == "12 34");
  CHECK((*q)[2].first == "x");
  CHECK_FALSE(api::parseQuery("a=%zz"));
  CHECK_FALSE(api::parseQuery("a=%2"));
  CHECK_FALSE(api::parseQuery(std::string(3000, 'a')));
  CHECK(api::parseQuery("")->empty());
}

TEST_CASE("feed PINs are scrypt hashes checked in constant time", "[api][feeds]") {
  const auto h = gateway::feeds::hashPin("4711");
  CHECK(h.starts_with("scrypt$16384$8$1$"));
  CHECK(h.find("4711") == std::string::npos);
  CHECK(gateway::feeds::verifyPin("4711", h));
  CHECK_FALSE(gateway::feeds::verifyPin("4712", h));
  CHECK_FALSE(gateway::feeds::verifyPin("4711", "scrypt$99999999999$8$1$AAAA$AAAA"));  // bounded parameters
  CHECK_FALSE(gateway::feeds::verifyPin("4711", "garbage"));
  CHECK(gateway::feeds::hashPin("4711") != h);  // salted
}

TEST_CASE("the availability feed holds busy blocks and nothing of the events", "[api][feeds]") {
  using providers::Event;
  auto zoned = [](sys_seconds t) { return providers::ZonedTime{t, "Europe/Berlin"}; };
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
  free.showAs = providers::ShowAs::Free;
  free.start = zoned(now + 3h);
  free.end = zoned(now + 4h);
  events.push_back(free);
  Event cancelled = free;
  cancelled.id = "cancelled";
  cancelled.showAs = providers::ShowAs::Busy;
  cancelled.status = providers::Status::Cancelled;
  events.push_back(cancelled);
  Event allDay;
  allDay.id = "offsite";
  allDay.title = "Offsite";
  allDay.start = providers::Date{2026y / November / 25};
  allDay.end = providers::Date{2026y / November / 27};
  events.push_back(allDay);

  const providers::TimeWindow window{now - days(1), now + days(60)};
  auto blocks = gateway::feeds::busyBlocks(events, window, "fed_x|cal_y", "Europe/Berlin");
  REQUIRE(blocks);
  CHECK(blocks->size() == 5);  // 4 weekly occurrences (one moved) + the all-day block
  auto copy = *blocks;
  copy.insert(copy.end(), blocks->begin(), blocks->end());  // the same calendar twice: de-duplicated
  const std::string ics = gateway::feeds::renderBusyCalendar(copy, "Not available", now);
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
  const std::string longLabel = gateway::feeds::renderBusyCalendar({}, std::string(90, 'x') + ";,", now);
  CHECK(longLabel.find("\r\n x") != std::string::npos);  // folded
  CHECK(longLabel.find("\\;\\,") != std::string::npos);  // escaped
}
