// The Graph adapter against answers no honest Graph sends: links that leave the API root, wrong
// JSON types anywhere, pages without a next or delta link, malformed times and Retry-After values;
// and the wire reader's strictness. Nothing may throw; every refusal is an error value or an
// unreadable item, and the bearer token never leaves the API root.
#include "calgate/policy/evaluator.hpp"
#include "calgate/providers/microsoft/graph_provider.hpp"
#include "calgate/providers/microsoft/graph_wire.hpp"
#include "calgate/providers/microsoft/mapping.hpp"
#include "support/batched_writes.hpp"
#include "support/scripted_http.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <set>

using namespace calgate;
using namespace calgate::providers;
using namespace calgate::providers::microsoft;
using namespace std::chrono;
using nlohmann::json;
using test::answer;

namespace {

const TimeWindow kWindow{sys_days{2026y / January / 1}, sys_days{2027y / January / 1}};
constexpr const char* kRoot = "https://graph.test/";

struct Adapter {
  test::StaticTokens tokens;
  test::LambdaHttp http;
  GraphProvider provider;
  explicit Adapter(std::function<HttpResponse(const HttpRequest&)> f)
      : http(std::move(f)), provider(http, tokens, core::systemClock(), {kRoot}, [] {
          GraphOptions o;
          o.sleep = [](milliseconds) {};
          return o;
        }()) {}
};

std::string event(const std::string& id, const std::string& extra = "") {
  return R"({"id":")" + id + R"(","@odata.etag":"W/\"1\"","subject":"s","start":{"dateTime":"2026-03-02T09:00:00.0000000","timeZone":"UTC"},)" +
         R"("end":{"dateTime":"2026-03-02T10:00:00.0000000","timeZone":"UTC"})" + extra + "}";
}

}  // namespace

TEST_CASE("links outside the API root are never followed: the token stays home", "[microsoft][hostile]") {
  for (const std::string link : {"https://evil.test/v1.0/me/calendarView/delta?$skiptoken=x", "https://graph.test/v1.0/../../x",
                                 "https://graph.test.evil/v1.0/x", "http://graph.test/v1.0/x"}) {
    Adapter a([&](const HttpRequest& r) {
      if (r.url.find("skiptoken") != std::string::npos || r.url.find("evil") != std::string::npos) FAIL("followed " << r.url);
      return answer(200, R"({"value":[],"@odata.nextLink":")" + link + R"("})");
    });
    auto r = a.provider.pullChanges("cal", "", kWindow);
    REQUIRE_FALSE(r);
    CHECK(a.http.sent.size() == 1);
  }
}

TEST_CASE("a 410 whose Location leaves the API root restarts from the adapter's own initial request", "[microsoft][hostile]") {
  int calls = 0;
  Adapter a([&](const HttpRequest& r) {
    ++calls;
    if (calls == 1) return answer(410, R"({"error":{"code":"syncStateNotFound","message":"gone"}})", {{"location", "https://evil.test/v1.0/x"}});
    CHECK(r.url.starts_with("https://graph.test/v1.0/me/calendars/cal/calendarView/delta?startDateTime="));
    return answer(200, R"({"value":[],"@odata.deltaLink":"https://graph.test/v1.0/d?$deltatoken=1"})");
  });
  const std::string cursor = json{{"link", "https://graph.test/v1.0/d?$deltatoken=0"}, {"from", kWindow.from.time_since_epoch().count()},
                                  {"to", kWindow.to.time_since_epoch().count()}}.dump();
  auto r = a.provider.pullChanges("cal", cursor, kWindow);
  REQUIRE(r);
  CHECK(r->complete);
  CHECK(calls == 2);
}

TEST_CASE("a page without nextLink or deltaLink, or with both, is an incomplete listing, never 'empty'", "[microsoft][hostile]") {
  for (const std::string body : {R"({"value":[]})", R"({"value":[],"@odata.nextLink":"https://graph.test/v1.0/a","@odata.deltaLink":"https://graph.test/v1.0/b"})",
                                 R"({"value":"nope","@odata.nextLink":7})", R"([1,2,3])", R"(not json)"}) {
    Adapter a([&](const HttpRequest&) { return answer(200, body); });
    auto r = a.provider.pullChanges("cal", "", kWindow);
    CHECK_FALSE(r);
  }
}

TEST_CASE("items with wrong types are unreadable, never events with empty fields; removals need an id", "[microsoft][hostile]") {
  const std::string items = "[" + event("ok") + "," + R"({"id":"bad-time","start":{"dateTime":"2026-03-02T09:00:00Z","timeZone":"UTC"},"end":{"dateTime":"x","timeZone":"UTC"}})" +
                            "," + R"({"id":"bad-zone","start":{"dateTime":"2026-03-02T09:00:00","timeZone":"Mars Standard Time"},"end":{"dateTime":"2026-03-02T10:00:00","timeZone":"UTC"}})" +
                            "," + R"({"id":7,"subject":"no id"})" + "," + R"({"@removed":{"reason":"deleted"}})" + "," +
                            event("types", R"(,"subject":42,"isAllDay":"yes","attendees":{"a":1},"organizer":[1],"body":"text","showAs":3)") + "]";
  Adapter a([&](const HttpRequest&) { return answer(200, R"({"value":)" + items + R"(,"@odata.deltaLink":"https://graph.test/v1.0/d?$deltatoken=1"})"); });
  auto r = a.provider.pullChanges("cal", "", kWindow);
  REQUIRE(r);
  REQUIRE(r->changed.size() == 2);
  CHECK(r->changed[0].id == "ok");
  CHECK(r->changed[1].id == "types");
  CHECK(r->changed[1].title.empty());
  CHECK(r->changed[1].attendees.empty());
  std::set<std::string> unreadable(r->unreadable.begin(), r->unreadable.end());
  CHECK(unreadable == std::set<std::string>{"bad-time", "bad-zone"});
  CHECK(r->skipped.size() == 2);
}

TEST_CASE("a damaged cursor starts a complete round", "[microsoft][hostile]") {
  for (const std::string cursor : {"{", R"({"link":1})", R"({"link":"https://evil.test/v1.0/x","from":0,"to":1})", "[]"}) {
    Adapter a([&](const HttpRequest& r) {
      CHECK(r.url.find("startDateTime=") != std::string::npos);
      return answer(200, R"({"value":[],"@odata.deltaLink":"https://graph.test/v1.0/d?$deltatoken=1"})");
    });
    auto r = a.provider.pullChanges("cal", cursor, kWindow);
    REQUIRE(r);
    CHECK(r->complete);
  }
}

TEST_CASE("ids and calendar ids are one path segment each", "[microsoft][hostile]") {
  Adapter a([&](const HttpRequest& r) {
    CHECK(r.url.find("/../") == std::string::npos);
    CHECK(r.url.find("me/events/%2E%2E%2F%2E%2E%2Fadmin") != std::string::npos);
    return answer(404, R"({"error":{"code":"ErrorItemNotFound","message":"no"}})");
  });
  auto r = a.provider.getEvent("cal", "../../admin");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == core::ErrorCode::NotFound);
}

TEST_CASE("Retry-After: seconds, fractional allowed; anything else is absent", "[microsoft][unit]") {
  CHECK(parseRetryAfterSeconds("2.128") == milliseconds(2128));
  CHECK(parseRetryAfterSeconds(" 3 ") == milliseconds(3000));
  CHECK(parseRetryAfterSeconds("0") == milliseconds(0));
  for (const char* bad : {"", "-1", "1e400", "nan", "Wed, 21 Oct 2015 07:28:00 GMT", "99999999", "2.5s", "1,5"}) {
    CHECK_FALSE(parseRetryAfterSeconds(bad));
  }
}

TEST_CASE("Graph times: no offset, up to seven fraction digits, a Windows or IANA zone", "[microsoft][unit]") {
  auto t = readGraphTime(json{{"dateTime", "2026-03-29T02:30:00.0000000"}, {"timeZone", "W. Europe Standard Time"}}, false);
  REQUIRE(t);
  CHECK(std::get<model::ZonedTime>(*t).zone == "Europe/Berlin");
  auto utc = readGraphTime(json{{"dateTime", "2026-03-02T09:00:00"}, {"timeZone", "tzone://Microsoft/Utc"}}, false);
  REQUIRE(utc);
  CHECK(std::get<model::ZonedTime>(*utc).instant == sys_days{2026y / March / 2} + 9h);
  auto day = readGraphTime(json{{"dateTime", "2026-12-24T00:00:00.0000000"}, {"timeZone", "UTC"}}, true);
  REQUIRE(day);
  CHECK(std::get<model::Date>(*day).day == 2026y / December / 24);
  for (const json& bad : {json{{"dateTime", "2026-03-02T09:00:00Z"}, {"timeZone", "UTC"}},
                          json{{"dateTime", "2026-03-02T09:00:00.12345678"}, {"timeZone", "UTC"}},
                          json{{"dateTime", "2026-02-30T09:00:00"}, {"timeZone", "UTC"}},
                          json{{"dateTime", "2026-03-02T09:00:00"}, {"timeZone", "tzone://Microsoft/Custom"}},
                          json{{"dateTime", "2026-03-02T09:00:00"}}, json{{"dateTime", 5}, {"timeZone", "UTC"}}, json(nullptr), json("x")}) {
    CHECK_FALSE(readGraphTime(bad, false));
  }
  CHECK_FALSE(readGraphTime(json{{"dateTime", "2026-12-24T09:00:00"}, {"timeZone", "UTC"}}, true));  // all-day must be midnight
}

TEST_CASE("Outlook's HTML bodies are read as text", "[microsoft][unit]") {
  auto e = readGraphEvent(json::parse(event("x", R"(,"body":{"contentType":"html","content":"<html><body><p>Agenda &amp; notes</p><p>line&nbsp;2</p></body></html>"})")));
  REQUIRE(e);
  CHECK(e->description == "Agenda & notes\nline 2");
}

TEST_CASE("the origin marker is read back; a damaged one makes the item unreadable", "[microsoft][unit]") {
  const std::string prop = std::string(kOriginPropertyId);
  auto e = readGraphEvent(json::parse(event("x", R"(,"singleValueExtendedProperties":[{"id":")" + prop + R"(","value":"pr_1 cal|uid|"}])")));
  REQUIRE(e);
  REQUIRE(e->origin);
  CHECK(e->origin->pairId == "pr_1");
  CHECK(e->origin->sourceKey == "cal|uid|");
  CHECK_FALSE(readGraphEvent(json::parse(event("x", R"(,"singleValueExtendedProperties":[{"id":")" + prop + R"(","value":"broken"}])"))));
}

TEST_CASE("times read in UTC keep the organiser's zone from originalStartTimeZone", "[microsoft][unit]") {
  auto e = readGraphEvent(json::parse(event("x", R"(,"originalStartTimeZone":"Eastern Standard Time","originalEndTimeZone":"tzone://Microsoft/Custom")")));
  REQUIRE(e);
  const auto& start = std::get<model::ZonedTime>(e->start);
  CHECK(start.zone == "America/New_York");
  CHECK(start.instant == sys_days{2026y / March / 2} + 9h);  // the same instant
  CHECK(std::get<model::ZonedTime>(e->end).zone == "UTC");   // an unknown (custom) zone: as answered
}

TEST_CASE("a $batch answer that is not one of these requests' fails the batch as a whole, never guessed", "[microsoft][hostile][batch]") {
  const auto one = test::approvedCopy(model::ProviderKind::Microsoft, "u1");
  const auto two = test::approvedCopy(model::ProviderKind::Microsoft, "u2");
  const std::vector<BatchedWrite> writes{{BatchedWrite::Op::Update, "e1", "W/\"1\"", &one},
                                         {BatchedWrite::Op::Update, "e2", "W/\"1\"", &two}};
  const std::string ok = R"({"id":"1","status":200,"body":)" + event("e1") + "}";
  for (const std::string& responses :
       {std::string(R"({"value":[]})"), "{\"responses\":[" + ok + "]}", "{\"responses\":[" + ok + "," + ok + "]}",
        "{\"responses\":[" + ok + R"(,{"id":"3","status":200}]})", "{\"responses\":[" + ok + R"(,{"id":"2"}]})",
        "{\"responses\":[" + ok + R"(,{"id":"2","status":"200"}]})", "{\"responses\":[" + ok + R"(,{"id":"02x","status":200}]})",
        "{\"responses\":[" + ok + R"(,{"id":"2","status":99}]})"}) {
    INFO(responses);
    Adapter a([&](const HttpRequest& r) {
      if (r.url != std::string(kRoot) + "v1.0/$batch") FAIL("sent on its own: " << r.url);
      return answer(200, responses);
    });
    auto r = a.provider.writeBatch("cal", writes);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::ErrorCode::Invalid);
    CHECK(a.http.sent.size() == 1);
  }
  // answered in an order of its own, each by its id
  Adapter a([&](const HttpRequest&) {
    return answer(200, R"({"responses":[{"id":"2","status":200,"body":)" + event("e2") + "}," + ok + "]}");
  });
  auto r = a.provider.writeBatch("cal", writes);
  REQUIRE(r);
  REQUIRE((*r)[0]);
  CHECK((*r)[0]->id == "e1");
  REQUIRE((*r)[1]);
  CHECK((*r)[1]->id == "e2");
}

TEST_CASE("occurrences naming masters without end: the master reads count against the pull's budget", "[microsoft][hostile]") {
  // a page of 60 occurrences, each of another "series": every master would be read to see whose it is
  std::string items = "[";
  for (int i = 0; i < 60; ++i) {
    items += (i ? "," : "") + event("occ" + std::to_string(i), R"(,"type":"occurrence","seriesMasterId":"m)" + std::to_string(i) +
                                                                   R"(","originalStart":"2026-03-02T09:00:00Z")");
  }
  items += "]";
  std::size_t masterReads = 0;
  test::StaticTokens tokens;
  test::LambdaHttp http([&](const HttpRequest& r) {
    if (r.url.find("/calendarView/delta") != std::string::npos) {
      return answer(200, R"({"value":)" + items + R"(,"@odata.deltaLink":"https://graph.test/v1.0/d?$deltatoken=1"})");
    }
    ++masterReads;
    return answer(200, event("master", R"(,"type":"seriesMaster")"));
  });
  GraphOptions o;
  o.sleep = [](milliseconds) {};
  o.maxPullEvents = 100;
  GraphProvider provider(http, tokens, core::systemClock(), {kRoot}, o);
  auto r = provider.pullChanges("cal", "", kWindow);
  REQUIRE_FALSE(r);
  CHECK(r.error().cause == core::Cause::BudgetExceeded);
  CHECK(masterReads == 40);  // 60 items + 40 reads reach the 100 a pull may take
}
