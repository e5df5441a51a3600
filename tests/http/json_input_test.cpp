// REST plumbing without a socket: route parameters with suffixes, the token bucket, strict JSON
// bodies, query strings, field problems.

#include "calgate/http/json_input.hpp"
#include "calgate/http/rate_limiter.hpp"
#include "calgate/http/router.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace calgate;
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

