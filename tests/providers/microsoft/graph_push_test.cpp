// Change-notification subscriptions through the Graph adapter, against the contract fake and an
// HTTPS receiver on loopback that passes Graph's validation handshake: created on one calendar's
// events with calgate's clientState and lifecycle URL, renewed by PATCH, reauthorized, deleted; a
// handshake nobody answers means no subscription; what Graph would refuse is refused before a
// request.
#include "calgate/providers/microsoft/graph_instant.hpp"
#include "fakes/fake_clock.hpp"
#include "graph_setup.hpp"
#include "support/https_receiver.hpp"

using namespace calgate;
using namespace calgate::test::graph;

namespace {

struct PushSetup {
  test::HttpsReceiver receiver;
  Setup s;
  test::FakeClock clock = test::FakeClock::at(2026y / June / 1, 0h);
  std::unique_ptr<GraphProvider> provider;

  explicit PushSetup(std::map<std::string, std::string> switches = {})
      : s([&] {
          switches["deliveryCa"] = receiver.caSwitch();
          return switches;
        }()) {
    GraphOptions o;
    o.sleep = [](milliseconds) {};
    provider = std::make_unique<GraphProvider>(s.http, *s.tokens, clock, GraphEndpoints{s.fake.url}, o);
  }
  WatchRequest request(const std::string& id) {
    return {id, receiver.url, "cgpush_" + id, sys_seconds(sys_days{2026y / June / 3}), receiver.url + "/lifecycle"};
  }
  json subscriptions() { return s.fake.state()["subscriptions"]; }
};

}  // namespace

TEST_CASE("push: a subscription on the calendar's events with calgate's clientState; renewed by PATCH, reauthorized, deleted",
          "[microsoft][contract][push]") {
  PushSetup p;
  auto w = p.provider->watch(p.s.calendar, p.request("ch_one"));
  REQUIRE(w);
  CHECK(w->channelId == "ch_one");
  CHECK(w->expiresAt == sys_seconds(sys_days{2026y / June / 3}));
  auto subs = p.subscriptions();
  REQUIRE(subs.size() == 1);
  CHECK(subs[0]["id"] == w->resourceId);
  CHECK(subs[0]["clientState"] == "cgpush_ch_one");
  CHECK(subs[0]["changeType"] == "created,updated,deleted");
  CHECK(subs[0]["resource"] == "/me/calendars/" + p.s.calendar + "/events");
  CHECK(subs[0]["notificationUrl"] == p.receiver.url);
  CHECK(subs[0]["lifecycleNotificationUrl"] == p.receiver.url + "/lifecycle");
  // Graph validated both URLs before it answered
  const auto handshakes = p.s.fake.state()["handshakes"];
  REQUIRE(handshakes.size() == 2);
  CHECK(handshakes[0]["ok"] == true);
  CHECK(handshakes[1]["ok"] == true);

  // a change in the calendar is delivered with the clientState
  p.s.fake.userCreates(p.s.calendar, timed("news", "2026-06-10T09:00:00", "2026-06-10T10:00:00"));
  const auto deliveries = p.s.fake.state()["deliveries"];
  REQUIRE_FALSE(deliveries.empty());
  CHECK(deliveries[0]["notification"]["clientState"] == "cgpush_ch_one");
  CHECK(deliveries[0]["notification"]["subscriptionId"] == w->resourceId);
  CHECK(deliveries[0]["status"] == 202);

  auto renewed = p.provider->renewWatch(*w, sys_seconds(sys_days{2026y / June / 3}) + 12h);
  REQUIRE(renewed);
  CHECK(renewed->resourceId == w->resourceId);
  CHECK(renewed->expiresAt == sys_seconds(sys_days{2026y / June / 3}) + 12h);
  CHECK(p.subscriptions()[0]["expirationDateTime"] == "2026-06-03T12:00:00.000Z");

  p.s.fake.control("POST", "subscriptions/" + w->resourceId + "/lifecycle", {{"event", "reauthorizationRequired"}});
  CHECK(p.subscriptions()[0]["needsReauthorization"] == true);
  REQUIRE(p.provider->reauthorizeWatch(*w));
  CHECK(p.subscriptions()[0]["needsReauthorization"] == false);

  REQUIRE(p.provider->unwatch(*w));
  CHECK(p.subscriptions().empty());
  CHECK(p.provider->unwatch(*w));  // gone already: done
  // renewing one Graph no longer has: NotFound, so calgate opens a new one
  auto gone = p.provider->renewWatch(*w, sys_seconds(sys_days{2026y / June / 3}));
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == core::ErrorCode::NotFound);
}

TEST_CASE("push: a handshake that fails means no subscription; what Graph refuses is refused before a request",
          "[microsoft][contract][push]") {
  PushSetup p(std::map<std::string, std::string>{{"validationTimeoutMs", "2000"}});
  WatchRequest r = p.request("ch_nobody");
  r.address = "https://127.0.0.1:9/webhooks/microsoft";  // nobody answers the validation request
  r.lifecycleAddress.clear();
  auto w = p.provider->watch(p.s.calendar, r);
  REQUIRE_FALSE(w);
  CHECK(w.error().code == core::ErrorCode::Invalid);
  CHECK(p.subscriptions().empty());

  const std::size_t before = p.provider->requestCount();
  r = p.request("ch_plain");
  r.address = "http://127.0.0.1:9/webhooks/microsoft";
  CHECK_FALSE(p.provider->watch(p.s.calendar, r));
  r = p.request("ch_long");
  r.token = std::string(129, 'x');
  CHECK_FALSE(p.provider->watch(p.s.calendar, r));
  CHECK(p.provider->requestCount() == before);
}

TEST_CASE("Graph's instants as subscriptions carry them", "[microsoft][push]") {
  CHECK(parseGraphInstant("2026-12-05T06:52:00.0000000Z") == sys_seconds(sys_days{2026y / December / 5}) + 6h + 52min);
  CHECK(parseGraphInstant("2026-12-05T06:52:07+00:00") == sys_seconds(sys_days{2026y / December / 5}) + 6h + 52min + 7s);
  CHECK_FALSE(parseGraphInstant("2026-12-05T06:52:00"));
  CHECK_FALSE(parseGraphInstant("2026-02-30T06:52:00Z"));
  CHECK_FALSE(parseGraphInstant("2026-12-05T06:52:00.Z"));
  CHECK_FALSE(parseGraphInstant("2026-12-05T06:52:00+01:00"));
  CHECK_FALSE(parseGraphInstant(""));
}
