#include "calgate/http/dispatcher.hpp"
#include "calgate/http/json_input.hpp"
#include "calgate/http/metrics.hpp"
#include "calgate/http/rate_limiter.hpp"
#include "calgate/http/router.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <stdexcept>

using namespace calgate;
using namespace calgate::http;
using namespace std::chrono;

namespace {

Request get(std::string path, std::vector<std::pair<std::string, std::string>> headers = {}) {
  Request r;
  r.method = "GET";
  r.path = std::move(path);
  r.headers = std::move(headers);
  return r;
}

std::string headerOf(const Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

struct Fixture {
  Router router;
  HttpMetrics metrics;
  int authCalls = 0;
  std::unique_ptr<Dispatcher> dispatcher;

  Fixture() {
    router.add({"GET", "/open", false, [](Request&) { return Response::json(200, "{}"); }});
    router.add({"GET", "/items/{id}", true, [](Request& r) {
                  return Response::json(200, "{\"id\":\"" + r.params["id"] + "\",\"user\":\"" + r.identity->userId + "\"}");
                }});
    router.add({"POST", "/items/{id}", false, [](Request&) { return Response::json(201, "{}"); }});
    router.add({"GET", "/boom", false, [](Request&) -> Response { throw std::runtime_error("kaput"); }});
    dispatcher = std::make_unique<Dispatcher>(
        router,
        [this](std::string_view secret) -> core::Result<Identity> {
          ++authCalls;
          if (secret == "good-token") return Identity{"usr_1", "tok_1"};
          if (secret == "db-down") return core::fail(core::ErrorCode::Unavailable, "database unreachable");
          return core::fail(core::ErrorCode::Unauthorized, "missing or invalid bearer token");
        },
        metrics, 1024);
  }
};

}  // namespace

TEST_CASE("router matches literal and parameter segments", "[http]") {
  Router r;
  r.add({"GET", "/v1/pairs/{id}/sync", false, {}});
  auto m = r.match("GET", "/v1/pairs/pr_42/sync");
  REQUIRE(m.kind == RouteMatch::Kind::Found);
  CHECK(m.params.at("id") == "pr_42");
  CHECK(r.match("GET", "/v1/pairs/pr_42").kind == RouteMatch::Kind::NotFound);
  CHECK(r.match("GET", "/v1/pairs/pr_42/sync/").kind == RouteMatch::Kind::NotFound);
  auto post = r.match("POST", "/v1/pairs/x/sync");
  CHECK(post.kind == RouteMatch::Kind::MethodNotAllowed);
  CHECK(post.allowed == std::vector<std::string>{"GET"});
  CHECK_THROWS_AS(r.add({"GET", "/v1/pairs/{id}/sync", false, {}}), std::invalid_argument);
  CHECK_THROWS_AS(r.add({"GET", "relative", false, {}}), std::invalid_argument);
}

TEST_CASE("dispatcher answers problem+json for 404, 405 and 500", "[http]") {
  Fixture f;
  auto req = get("/missing");
  auto r = f.dispatcher->handle(req);
  CHECK(r.status == 404);
  CHECK(r.contentType == "application/problem+json");
  auto body = nlohmann::json::parse(r.body);
  CHECK(body["type"] == "urn:calgate:problem:not-found");
  CHECK(body["status"] == 404);

  auto del = get("/items/1");
  del.method = "DELETE";
  r = f.dispatcher->handle(del);
  CHECK(r.status == 405);
  CHECK(headerOf(r, "Allow") == "GET, POST");

  auto boom = get("/boom");
  r = f.dispatcher->handle(boom);
  CHECK(r.status == 500);
  CHECK(r.contentType == "application/problem+json");
  CHECK(r.body.find("kaput") == std::string::npos);  // internals stay in the log
}

TEST_CASE("authenticated routes give one indistinguishable 401 for every token failure", "[http][auth]") {
  Fixture f;
  std::vector<Request> bad = {get("/items/7"), get("/items/7", {{"authorization", "Bearer nope"}}),
                              get("/items/7", {{"authorization", "Basic Zm9vOmJhcg=="}}),
                              get("/items/7", {{"authorization", "Bearer "}})};
  std::string firstBody;
  for (auto& req : bad) {
    auto r = f.dispatcher->handle(req);
    CHECK(r.status == 401);
    CHECK(headerOf(r, "WWW-Authenticate") == "Bearer realm=\"calgate\"");
    if (firstBody.empty()) firstBody = r.body;
    CHECK(r.body == firstBody);
  }
  auto good = get("/items/7", {{"authorization", "bearer good-token"}});
  auto r = f.dispatcher->handle(good);
  CHECK(r.status == 200);
  CHECK(nlohmann::json::parse(r.body)["user"] == "usr_1");

  auto down = get("/items/7", {{"authorization", "Bearer db-down"}});
  CHECK(f.dispatcher->handle(down).status == 503);

  // open routes never consult the authenticator
  const int before = f.authCalls;
  auto open = get("/open", {{"authorization", "Bearer whatever"}});
  CHECK(f.dispatcher->handle(open).status == 200);
  CHECK(f.authCalls == before);
}

TEST_CASE("bodies over the limit get 413 before routing or auth", "[http]") {
  Fixture f;
  Request big = get("/items/1");
  big.method = "POST";
  big.body = std::string(1025, 'x');
  auto r = f.dispatcher->handle(big);
  CHECK(r.status == 413);
  CHECK(r.contentType == "application/problem+json");

  Request declared = get("/items/1");
  declared.method = "POST";
  declared.contentLength = 5000;
  CHECK(f.dispatcher->handle(declared).status == 413);

  Request exact = get("/items/1");
  exact.method = "POST";
  exact.body = std::string(1024, 'x');
  CHECK(f.dispatcher->handle(exact).status == 201);
}

TEST_CASE("request ids are taken from a sane X-Request-Id or generated", "[http]") {
  Fixture f;
  auto a = get("/open", {{"x-request-id", "abc-123"}});
  CHECK(headerOf(f.dispatcher->handle(a), "X-Request-Id") == "abc-123");
  auto b = get("/open", {{"x-request-id", "evil\nheader"}});
  const auto id = headerOf(f.dispatcher->handle(b), "X-Request-Id");
  CHECK(id.starts_with("req_"));
}

TEST_CASE("draining answers 503 with Connection: close", "[http]") {
  Fixture f;
  f.dispatcher->startDraining();
  auto req = get("/open");
  auto r = f.dispatcher->handle(req);
  CHECK(r.status == 503);
  CHECK(headerOf(r, "Connection") == "close");
}

TEST_CASE("metrics render counters and a cumulative histogram by route pattern", "[http][metrics]") {
  Fixture f;
  for (int i = 0; i < 3; ++i) {
    auto req = get("/items/" + std::to_string(i), {{"authorization", "Bearer good-token"}});
    f.dispatcher->handle(req);
  }
  auto missing = get("/secret-capability-token-in-path");
  f.dispatcher->handle(missing);
  f.metrics.record("/x", "GET", 200, 0.003);
  f.metrics.record("/x", "GET", 200, 3.0);
  const std::string text = f.metrics.render();
  CHECK_THAT(text, Catch::Contains("calgate_build_info{version=\""));
  CHECK_THAT(text, Catch::Contains("# TYPE calgate_uptime_seconds gauge"));
  CHECK_THAT(text, Catch::Contains("calgate_http_requests_total{route=\"/items/{id}\",method=\"GET\",status=\"200\"} 3"));
  CHECK_THAT(text, Catch::Contains("calgate_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1"));
  CHECK_THAT(text, !Catch::Contains("secret-capability-token"));
  CHECK_THAT(text, Catch::Contains("calgate_http_request_duration_seconds_bucket{route=\"/x\",le=\"0.0025\"} 0"));
  CHECK_THAT(text, Catch::Contains("calgate_http_request_duration_seconds_bucket{route=\"/x\",le=\"0.005\"} 1"));
  CHECK_THAT(text, Catch::Contains("calgate_http_request_duration_seconds_bucket{route=\"/x\",le=\"2.5\"} 1"));
  CHECK_THAT(text, Catch::Contains("calgate_http_request_duration_seconds_bucket{route=\"/x\",le=\"+Inf\"} 2"));
  CHECK_THAT(text, Catch::Contains("calgate_http_request_duration_seconds_count{route=\"/x\"} 2"));
  CHECK_THAT(text, Catch::Contains("calgate_http_request_duration_seconds_sum{route=\"/x\"} 3.003"));
}

TEST_CASE("bearerToken parses the Authorization header", "[http][auth]") {
  CHECK(bearerToken(get("/", {{"authorization", "Bearer  abc "}})) == std::optional<std::string_view>("abc"));
  CHECK(bearerToken(get("/", {{"authorization", "BEARER abc"}})) == std::optional<std::string_view>("abc"));
  CHECK_FALSE(bearerToken(get("/", {{"authorization", "Bearerabc"}})));
  CHECK_FALSE(bearerToken(get("/", {})));
}

// ---- REST plumbing without a socket: route suffixes, the token bucket, strict JSON bodies, query strings

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

TEST_CASE("a flood of new keys never resets a limited client's bucket", "[api][ratelimit]") {
  http::RateLimiter limiter(60, 100);
  for (int i = 0; i < 60; ++i) REQUIRE_FALSE(limiter.take("limited", 10.0));
  REQUIRE(limiter.take("limited", 10.0));  // out of requests
  // a stranger sprays random keys (feed tokens) until the map is full and beyond
  int refused = 0;
  for (int i = 0; i < 1000; ++i) refused += limiter.take("random-" + std::to_string(i), 10.5) ? 1 : 0;
  CHECK(refused >= 900);  // new keys wait while every bucket is in use...
  CHECK(limiter.take("limited", 10.5));  // ...and the limited client is still limited
  // a minute later the flood's buckets are idle again and make room
  CHECK_FALSE(limiter.take("newcomer", 80.0));
}

TEST_CASE("JSON bodies are read strictly", "[api][json]") {
  CHECK(http::readJsonObject(jsonRequest("{}")).has_value());
  CHECK(http::readJsonObject(jsonRequest("{}", "application/json; charset=utf-8")).has_value());
  auto r = http::readJsonObject(jsonRequest("{}", "text/plain"));
  REQUIRE_FALSE(r);
  CHECK(r.error().status == 415);
  r = http::readJsonObject(jsonRequest("{\"a\":"));
  REQUIRE_FALSE(r);
  CHECK(slugOf(r.error()) == "invalid-json");
  r = http::readJsonObject(jsonRequest("[1,2]"));
  REQUIRE_FALSE(r);
  CHECK(slugOf(r.error()) == "invalid-json");
  r = http::readJsonObject(jsonRequest(std::string(20, '[') + std::string(20, ']')));
  REQUIRE_FALSE(r);
  CHECK(slugOf(r.error()) == "invalid-json");
  r = http::readJsonObject(jsonRequest("{\"a\":\"" + std::string(70000, 'x') + "\"}"));
  REQUIRE_FALSE(r);
  CHECK(r.error().status == 413);

  const auto body = nlohmann::json::parse(
      R"({"name":"ok","n":5,"big":99999999999999999999,"flag":true,"bad":"a\u0001b","w":{"x":1},"list":["a","a"]})");
  http::ObjectReader in(body);
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
  auto q = http::parseQuery("limit=5&pin=12%2034&x");
  REQUIRE(q);
  REQUIRE(q->size() == 3);
  CHECK((*q)[1].second == "12 34");
  CHECK((*q)[2].first == "x");
  CHECK_FALSE(http::parseQuery("a=%zz"));
  CHECK_FALSE(http::parseQuery("a=%2"));
  CHECK_FALSE(http::parseQuery(std::string(3000, 'a')));
  CHECK(http::parseQuery("")->empty());
}
