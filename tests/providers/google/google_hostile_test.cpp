// The Google adapter against answers no honest Google sends: wrong JSON types anywhere, repeated
// page tokens, malformed error bodies, dot-segment ids; and the RFC 3339 reader's strictness.
// Nothing may throw (an exception would end the process); every refusal is an error value or an
// unreadable item.
#include "calgate/policy/evaluator.hpp"
#include "calgate/providers/google/google_provider.hpp"
#include "calgate/providers/google/wire.hpp"
#include "support/scripted_http.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>

using namespace calgate;
using namespace calgate::providers;
using namespace calgate::providers::google;
using namespace std::chrono;
using nlohmann::json;

namespace {

using test::answer;
using test::LambdaHttp;
using test::StaticTokens;

const TimeWindow kWindow{sys_days{2026y / January / 1}, sys_days{2027y / January / 1}};

struct Adapter {
  StaticTokens tokens;
  LambdaHttp http;
  GoogleProvider provider;
  explicit Adapter(std::function<HttpResponse(const HttpRequest&)> f)
      : http(std::move(f)), provider(http, tokens, core::systemClock(), {"https://api.test/"}, [] {
          GoogleOptions o;
          o.sleep = [](milliseconds) {};
          o.requestsPerMinute = 0;
          return o;
        }()) {}
};

std::string page(const json& items, const std::string& extra = R"("nextSyncToken":"s1")") {
  return R"({"kind":"calendar#events","timeZone":"UTC","items":)" + items.dump() + "," + extra + "}";
}

}  // namespace

TEST_CASE("RFC 3339: signs, short fields and impossible values are refused", "[google][wire]") {
  CHECK(parseRfc3339("2026-03-02T09:00:00+01:00") == sys_days{2026y / March / 2} + 8h);
  CHECK(parseRfc3339("2026-03-02T09:00:00.123Z") == sys_days{2026y / March / 2} + 9h);
  for (const char* bad : {"2026-01-01T-1:-5:00Z", "-001-01-01T00:00:00Z", "2026-01-01T00:00:00+-1:00", "2026-02-30T00:00:00Z",
                          "2026-01-01T24:00:00Z", "2026-01-01T00:00:00", "2026-01-01T00:00:00Zjunk", "2026-1-01T00:00:00Z", ""}) {
    INFO(bad);
    CHECK_FALSE(parseRfc3339(bad));
  }
}

TEST_CASE("reading items of the wrong shape refuses them, never throws", "[google][wire]") {
  CHECK_FALSE(readEvent(json(5), "UTC"));
  CHECK_FALSE(readEvent(json::array(), "UTC"));
  CHECK_FALSE(readEvent(json{{"id", 7}}, "UTC"));
  CHECK_FALSE(readEvent(json{{"id", "a"}, {"etag", 3}, {"start", {{"date", "2026-01-01"}}}, {"end", {{"date", "2026-01-02"}}}}, "UTC"));
  CHECK_FALSE(readEvent(json{{"id", "a"}, {"start", 1}, {"end", {{"date", "2026-01-02"}}}}, "UTC"));
  CHECK_FALSE(readEvent(json{{"id", "a"}, {"start", {{"dateTime", "2026-01-01T09:00:00Z"}, {"timeZone", "Mars/Olympus"}}},
                             {"end", {{"dateTime", "2026-01-01T10:00:00Z"}}}}, "UTC"));
  CHECK(stringField(json(5), "id").empty());
  CHECK(stringField(json{{"id", 5}}, "id").empty());
  CHECK(arrayField(json{{"items", "x"}}, "items").empty());
  CHECK_FALSE(itemKind(json{{"id", "a"}, {"status", 5}}));
}

TEST_CASE("a listing with odd items: each unreadable one is reported, the rest is read", "[google][hostile]") {
  const json items = json::array({
      {{"id", "good"}, {"etag", "\"1\""}, {"summary", "fine"}, {"start", {{"dateTime", "2026-06-01T09:00:00Z"}}},
       {"end", {{"dateTime", "2026-06-01T10:00:00Z"}}}},
      {{"id", "badetag"}, {"etag", 3}, {"start", {{"date", "2026-06-02"}}}, {"end", {{"date", "2026-06-03"}}}},
      {{"id", "badstatus"}, {"status", 5}},
      {{"id", "orphan"}, {"status", "cancelled"}, {"recurringEventId", 9}},
  });
  Adapter a([&](const HttpRequest&) { return answer(200, page(items)); });
  auto r = a.provider.pullChanges("cal", "", kWindow);
  REQUIRE(r);
  REQUIRE(r->changed.size() == 1);
  CHECK(r->changed[0].title == "fine");
  auto unreadable = r->unreadable;
  std::sort(unreadable.begin(), unreadable.end());
  CHECK(unreadable == std::vector<std::string>{"badetag", "badstatus", "orphan"});
  CHECK(r->skipped.size() == 3);
}

TEST_CASE("a listing that is not one: an error, never an empty calendar", "[google][hostile]") {
  for (const std::string body : {"[]", "null", R"({"items":{}})", R"({"items":[5],"nextSyncToken":"s"})", R"({"items":[]})",
                                 "not json"}) {
    INFO(body);
    Adapter a([&](const HttpRequest&) { return answer(200, body); });
    auto r = a.provider.pullChanges("cal", "", kWindow);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::ErrorCode::Invalid);
  }
  Adapter repeating([&](const HttpRequest&) { return answer(200, page(json::array(), R"("nextPageToken":"p1")")); });
  auto r = repeating.provider.pullChanges("cal", "", kWindow);
  REQUIRE_FALSE(r);
  CHECK(repeating.http.sent.size() == 2);  // the second page repeated the token: stopped there
}

TEST_CASE("error bodies of any shape are read without throwing", "[google][hostile]") {
  for (const std::string body : {R"({"error":{"errors":"x"}})", R"({"error":5})", R"({"error":{"errors":[5]}})", "[]", ""}) {
    INFO(body);
    Adapter a([&](const HttpRequest&) { return answer(403, body); });
    auto r = a.provider.listCalendars();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::ErrorCode::Invalid);
  }
}

TEST_CASE("ids are one path segment: dots and slashes are encoded, a dot segment is refused", "[google][hostile]") {
  Adapter a([&](const HttpRequest& r) {
    return r.url.find("/calendarList/") != std::string::npos ? answer(200, R"({"timeZone":"UTC"})") : answer(404, "");
  });
  CHECK_FALSE(a.provider.getEvent("me@x.test", ".."));  // refused before any event request
  CHECK_FALSE(a.provider.getEvent("me@x.test", "a.b/c"));
  REQUIRE(a.http.sent.size() == 2);
  CHECK(a.http.sent[0].url == "https://api.test/calendar/v3/users/me/calendarList/me%40x%2Etest");
  CHECK(a.http.sent[1].url == "https://api.test/calendar/v3/calendars/me%40x%2Etest/events/a%2Eb%2Fc");
}

TEST_CASE("text that is not UTF-8 is written with replacement characters, never thrown", "[google][hostile]") {
  model::Event e;
  e.uid = "src";
  e.title = std::string("bad \xff\xfe title");
  e.start = model::ZonedTime{sys_days{2026y / June / 1} + 9h, "UTC"};
  e.end = model::ZonedTime{sys_days{2026y / June / 1} + 10h, "UTC"};
  policy::WriteContext ctx;
  ctx.pairId = "pr";
  ctx.sourceKey = "k";
  ctx.targetProvider = model::ProviderKind::Google;
  ctx.targetDomains = {"x.test"};
  auto d = policy::Evaluator{}.evaluate(policy::PairRules{}, policy::OrgPolicy::none("src.test"), e, ctx);
  REQUIRE(d.write);
  Adapter a([&](const HttpRequest& r) {
    if (r.method == "GET") return answer(200, R"({"id":"cal","timeZone":"UTC"})");
    return answer(200, R"({"id":"x","etag":"\"1\""})");
  });
  auto created = a.provider.create("cal", *d.write);
  REQUIRE(created);
  const auto sent = json::parse(a.http.sent.back().body, nullptr, false);
  REQUIRE_FALSE(sent.is_discarded());
}
