// The Google adapter against answers no honest Google sends: wrong JSON types anywhere, repeated
// page tokens, malformed error bodies, dot-segment ids; and the RFC 3339 reader's strictness.
// Nothing may throw (an exception would end the process); every refusal is an error value or an
// unreadable item.
#include "calgate/policy/evaluator.hpp"
#include "calgate/providers/google/google_provider.hpp"
#include "calgate/providers/google/batch.hpp"
#include "calgate/providers/google/mapping.hpp"
#include "calgate/providers/google/wire.hpp"
#include "support/batched_writes.hpp"
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

namespace {

std::string batchPart(int n, const std::string& statusLine, const std::string& body, const std::string& boundary = "b1") {
  return "--" + boundary + "\r\nContent-Type: application/http\r\nContent-ID: <response-item-" + std::to_string(n) +
         ">\r\n\r\n" + statusLine + "\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n" + body + "\r\n";
}


}  // namespace

TEST_CASE("a batch answer is read strictly: every part in order with a status, or nothing", "[google][hostile][batch]") {
  const std::string type = "multipart/mixed; boundary=b1";
  const std::string good = batchPart(1, "HTTP/1.1 200 OK", R"({"id":"a","etag":"\"1\""})") +
                           batchPart(2, "HTTP/1.1 409 Conflict", "not json") + "--b1--\r\n";
  auto ok = parseBatchAnswer(type, good, 2);
  REQUIRE(ok);
  CHECK((*ok)[0].status == 200);
  CHECK((*ok)[0].body["etag"] == "\"1\"");
  CHECK((*ok)[1].status == 409);
  CHECK((*ok)[1].body.is_null());  // a body that is not JSON reads as none; its status still counts
  CHECK(parseBatchAnswer("multipart/mixed; boundary=\"b1\"", good, 2));
  const std::string swapped = batchPart(2, "HTTP/1.1 200 OK", "{}") + batchPart(1, "HTTP/1.1 200 OK", "{}") + "--b1--\r\n";
  const std::string notHttp = "--b1\r\nContent-Type: text/plain\r\n\r\nHTTP/1.1 200 OK\r\n\r\n{}\r\n--b1--\r\n";
  const std::string noStatus = batchPart(1, "200 OK", "{}") + "--b1--\r\n";
  const std::string oddStatus = batchPart(1, "HTTP/1.1 2x0 OK", "{}") + "--b1--\r\n";
  const struct {
    const char* what;
    std::string contentType, body;
    std::size_t expected;
  } bad[] = {
      {"not multipart", "application/json", good, 2},
      {"no boundary", "multipart/mixed", good, 2},
      {"a boundary of more than 70 characters", "multipart/mixed; boundary=" + std::string(71, 'b'), good, 2},
      {"truncated (no closing boundary)", type, good.substr(0, good.size() - 8), 2},
      {"fewer parts than requests", type, good, 3},
      {"more parts than requests", type, good, 1},
      {"parts out of order", type, swapped, 2},
      {"a part that is not application/http", type, notHttp, 1},
      {"a part without a status line", type, noStatus, 1},
      {"a status that is not three digits", type, oddStatus, 1},
      {"an empty body", type, "", 1},
  };
  for (const auto& b : bad) {
    INFO(b.what);
    auto r = parseBatchAnswer(b.contentType, b.body, b.expected);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::ErrorCode::Invalid);
  }
}

TEST_CASE("a batch request: one numbered application/http part per request, a boundary none of them holds",
          "[google][hostile][batch]") {
  std::vector<BatchPart> parts{{"POST", "/calendar/v3/calendars/c/events?sendUpdates=none", {}, R"({"summary":"--calgate_x"})"},
                               {"DELETE", "/calendar/v3/calendars/c/events/e1?sendUpdates=none", {{"If-Match", "\"7\""}}, ""}};
  const std::string boundary = batchBoundary(parts);
  for (const auto& p : parts) CHECK(p.body.find(boundary) == std::string::npos);
  const std::string body = formatBatch(parts, boundary);
  CHECK_THAT(body, Catch::StartsWith("--" + boundary + "\r\nContent-Type: application/http\r\nContent-ID: <item-1>\r\n\r\n"
                                     "POST /calendar/v3/calendars/c/events?sendUpdates=none HTTP/1.1\r\n"
                                     "Content-Type: application/json\r\n\r\n{\"summary\":\"--calgate_x\"}\r\n"));
  CHECK_THAT(body, Catch::Contains("Content-ID: <item-2>\r\n\r\nDELETE /calendar/v3/calendars/c/events/e1?sendUpdates=none "
                                   "HTTP/1.1\r\nIf-Match: \"7\"\r\n\r\n\r\n"));
  CHECK_THAT(body, Catch::EndsWith("--" + boundary + "--\r\n"));
}

TEST_CASE("a batch whose answer cannot be read fails as a whole; parts that failed are done on their own",
          "[google][hostile][batch]") {
  const auto one = test::approvedCopy(model::ProviderKind::Google, "u1");
  const auto two = test::approvedCopy(model::ProviderKind::Google, "u2");
  const std::vector<BatchedWrite> writes{{BatchedWrite::Op::Create, "", "", &one}, {BatchedWrite::Op::Create, "", "", &two}};
  SECTION("a truncated answer: an error for the whole batch, no guessed results") {
    Adapter a([&](const HttpRequest& r) {
      if (r.method == "GET") return answer(200, R"({"id":"cal","timeZone":"UTC"})");
      HttpResponse out = answer(200, batchPart(1, "HTTP/1.1 200 OK", R"({"etag":"\"1\""})"));
      out.headers["content-type"] = "multipart/mixed; boundary=b1";
      return out;
    });
    auto r = a.provider.writeBatch("cal", writes);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::ErrorCode::Invalid);
    CHECK(a.http.sent.back().url == "https://api.test/batch/calendar/v3");
  }
  SECTION("a part answered 503: that write alone is sent again on its own, and succeeds") {
    Adapter a([&](const HttpRequest& r) {
      if (r.method == "GET") return answer(200, R"({"id":"cal","timeZone":"UTC"})");
      if (r.url.find("/batch/") != std::string::npos) {
        HttpResponse out = answer(200, batchPart(1, "HTTP/1.1 200 OK", R"({"etag":"\"1\""})") +
                                           batchPart(2, "HTTP/1.1 503 Service Unavailable", "{}") + "--b1--\r\n");
        out.headers["content-type"] = "multipart/mixed; boundary=b1";
        return out;
      }
      return answer(200, R"({"etag":"\"2\""})");
    });
    auto r = a.provider.writeBatch("cal", writes);
    REQUIRE(r);
    REQUIRE(r->size() == 2);
    REQUIRE((*r)[0]);
    CHECK((*r)[0]->etag == "\"1\"");
    REQUIRE((*r)[1]);
    CHECK((*r)[1]->etag == "\"2\"");
    CHECK((*r)[1]->id == eventIdFor(two.event().uid));
    CHECK(a.http.sent.back().method == "POST");
    CHECK(a.http.sent.back().url == "https://api.test/calendar/v3/calendars/cal/events?sendUpdates=none");
  }
}
