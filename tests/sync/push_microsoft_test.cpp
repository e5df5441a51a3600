// Push subscriptions on Microsoft 365 calendars (PushMaintainer) against the Graph contract fake,
// with an HTTPS receiver on loopback passing Graph's validation handshake: a subscription per
// calendar a pair reads, renewed by PATCH a day before it expires, reauthorized when Graph asked,
// made anew when Graph no longer has it, deleted when no pair reads the calendar. Needs the caldav
// service fixture and node.
#include "calgate/sync/push_channels.hpp"
#include "sync/push_support.hpp"
#include "calgate/sync/job_queue.hpp"
#include "calgate/sync/push_maintainer.hpp"
#include "support/https_receiver.hpp"
#include "sync/graph_pair.hpp"

#include <catch2/catch.hpp>

using namespace calgate;
using namespace calgate::sync;
using namespace std::chrono;
using From = calgate::test::GraphAndRadicale::From;
using nlohmann::json;



TEST_CASE("push subscriptions on Microsoft 365: opened, renewed by PATCH, reauthorized, made anew when gone, deleted with the pair",
          "[sync][microsoft][push]") {
  test::HttpsReceiver receiver("");
  calgate::test::GraphAndRadicale t(From::Graph, Direction::OneWay, "push", {}, {{"deliveryCa", receiver.caSwitch()}});
  auto& [fake, m, dav, davCal, p] = t;
  providers::microsoft::GraphOptions o;
  o.sleep = [](milliseconds) {};
  providers::microsoft::GraphProvider adapter(m.http, m.tokens, p.f.clock, providers::microsoft::GraphEndpoints{fake.url}, o);
  test::OneAdapter factory(adapter);
  PushMaintainer maintainer(p.f.t.db(), p.f.clock, factory, {receiver.url});
  auto advance = [&](hours h) {
    p.f.clock.advance(h);
    fake.clock({{"advanceMs", h.count() * 3600 * 1000LL}});
  };

  auto round = maintainer.maintain();
  REQUIRE(round);
  CHECK(round->opened == 1);
  auto rows = test::recordedChannels(p);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].provider == "microsoft");
  CHECK(rows[0].expiresAt == p.f.clock.nowUnixSeconds() + 2 * 86400);
  auto subs = fake.state()["subscriptions"];
  REQUIRE(subs.size() == 1);
  CHECK(subs[0]["id"] == rows[0].resourceId);
  CHECK(subs[0]["notificationUrl"] == receiver.url + "/webhooks/microsoft");
  CHECK(subs[0]["lifecycleNotificationUrl"] == receiver.url + "/webhooks/microsoft/lifecycle");
  CHECK(subs[0]["resource"] == "/me/calendars/" + m.calendar + "/events");

  // a day and an hour later it expires within a day: renewed in place (no new subscription)
  advance(hours(25));
  round = maintainer.maintain();
  REQUIRE(round);
  CHECK(round->renewed == 1);
  CHECK(round->opened == 0);
  rows = test::recordedChannels(p);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].expiresAt == p.f.clock.nowUnixSeconds() + 2 * 86400);
  subs = fake.state()["subscriptions"];
  REQUIRE(subs.size() == 1);
  CHECK(subs[0]["id"] == rows[0].resourceId);

  // Graph asked for reauthorization (the inbox marks the channel): the next round answers it
  fake.control("POST", "subscriptions/" + rows[0].resourceId + "/lifecycle", {{"event", "reauthorizationRequired"}});
  REQUIRE(PushChannelStore(p.f.t.db(), p.f.clock).setReauthorize(rows[0].id, true));
  round = maintainer.maintain();
  REQUIRE(round);
  CHECK(round->reauthorized == 1);
  CHECK(fake.state()["subscriptions"][0]["needsReauthorization"] == false);
  CHECK_FALSE(test::recordedChannels(p)[0].reauthorize);

  // Graph dropped it without calgate hearing: the renewal finds it gone, the next round makes a new one
  fake.control("POST", "subscriptions/" + rows[0].resourceId + "/lifecycle", {{"event", "subscriptionRemoved"}});
  advance(hours(25));
  CHECK_FALSE(JobQueue(p.f.t.db(), p.f.clock).pairJob(p.pairId)->queued);
  round = maintainer.maintain();
  REQUIRE(round);
  CHECK(round->failed == 1);
  CHECK(round->forgotten == 1);
  CHECK(test::recordedChannels(p).empty());
  // the failed renewal did not wait for the safety poll: the pair is synced now
  CHECK(JobQueue(p.f.t.db(), p.f.clock).pairJob(p.pairId)->queued);
  round = maintainer.maintain();
  REQUIRE(round);
  CHECK(round->opened == 1);
  CHECK(fake.state()["subscriptions"].size() == 1);

  // no pair reads the calendar any more: deleted
  PairChange off;
  off.enabled = false;
  REQUIRE(PairStore(p.f.t.db(), p.f.clock).change(p.pairId, off));
  round = maintainer.maintain();
  REQUIRE(round);
  CHECK(round->stopped == 1);
  CHECK(test::recordedChannels(p).empty());
  CHECK(fake.state()["subscriptions"].empty());
}
