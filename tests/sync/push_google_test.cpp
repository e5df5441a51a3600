// Push channels on Google calendars (PushMaintainer) against the Google contract fake: a channel
// per calendar a pair reads, renewed by a new channel before it expires (both open until the new
// one is recorded, then the old one stopped), stopped when no pair reads the calendar, a refused
// watch forgotten and tried again. Needs the caldav service fixture and node.
#include "calgate/providers/forwarding_provider.hpp"
#include "calgate/sync/push_channels.hpp"
#include "calgate/sync/push_maintainer.hpp"
#include "sync/google_pair.hpp"

#include <catch2/catch.hpp>

using namespace calgate;
using namespace calgate::sync;
using namespace std::chrono;
using From = calgate::test::GoogleAndRadicale::From;
using nlohmann::json;

namespace {

/// Every calendar opens the same adapter (the test's, on the engine's clock).
struct OneAdapter final : ProviderFactory {
  providers::Provider& adapter;
  explicit OneAdapter(providers::Provider& a) : adapter(a) {}
  core::Result<std::unique_ptr<providers::Provider>> open(const CalendarRef&, Deadline) override {
    return std::make_unique<providers::ForwardingProvider>(adapter);
  }
};

std::vector<PushChannel> recorded(test::EnginePair& p) {
  auto all = PushChannelStore(p.f.t.db(), p.f.clock).all();
  REQUIRE(all);
  return *all;
}

/// The fake's channels: id -> stopped.
std::map<std::string, bool> fakeChannels(test::GoogleFake& fake) {
  std::map<std::string, bool> out;
  const auto state = fake.state();
  for (const auto& c : state["channels"]) out[c["id"]] = c["stopped"].get<bool>();
  return out;
}

}  // namespace

TEST_CASE("push channels on Google: opened for the calendar a pair reads, renewed with overlap before expiry, stopped when "
          "no pair reads it",
          "[sync][google][push]") {
  // nothing listens at the address: the fake's deliveries fail at once, without retries
  calgate::test::GoogleAndRadicale t(From::Google, Direction::OneWay, "push", {}, {{"deliveryRetries", "0"}});
  auto& [fake, g, dav, davCal, p] = t;
  providers::google::GoogleOptions o;
  o.sleep = [](milliseconds) {};
  providers::google::GoogleProvider adapter(g.http, g.tokens, p.f.clock, providers::google::GoogleEndpoints{fake.url}, o);
  OneAdapter factory(adapter);
  PushMaintainer maintainer(p.f.t.db(), p.f.clock, factory, {"https://127.0.0.1:9/webhooks/google"});

  auto round = maintainer.maintain();
  REQUIRE(round);
  CHECK(round->opened == 1);  // the Google source; the Radicale target has no push
  CHECK(round->failed == 0);
  auto rows = recorded(p);
  REQUIRE(rows.size() == 1);
  const PushChannel first = rows[0];
  CHECK(first.active);
  CHECK(first.provider == "google");
  CHECK(first.expiresAt == p.f.clock.nowUnixSeconds() + 6 * 86400);
  CHECK(first.tokenSha256.size() == 64);
  auto channels = fakeChannels(fake);
  REQUIRE(channels.size() == 1);
  CHECK(channels.count(first.id));
  const auto state = fake.state();
  CHECK(state["channels"][0]["address"] == "https://127.0.0.1:9/webhooks/google");
  CHECK(state["channels"][0]["resourceId"] == first.resourceId);
  CHECK(state["channels"][0]["hasToken"] == true);

  // nothing due: nothing done
  round = maintainer.maintain();
  REQUIRE(round);
  CHECK(round->opened + round->stopped + round->forgotten == 0);

  // five days on, the channel expires within a day: a new one, then the old one stopped
  p.f.clock.advance(hours(5 * 24 + 1));
  fake.clock({{"advanceMs", (5 * 24 + 1) * 3600 * 1000LL}});
  round = maintainer.maintain();
  REQUIRE(round);
  CHECK(round->opened == 1);
  CHECK(round->stopped == 1);
  rows = recorded(p);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].id != first.id);
  channels = fakeChannels(fake);
  CHECK(channels.size() == 2);
  CHECK(channels[first.id] == true);
  CHECK(channels[rows[0].id] == false);

  // the pair is switched off: no pair reads the calendar, its channel is stopped
  PairStore pairs(p.f.t.db(), p.f.clock);
  PairChange off;
  off.enabled = false;
  REQUIRE(pairs.change(p.pairId, off));
  round = maintainer.maintain();
  REQUIRE(round);
  CHECK(round->stopped == 1);
  CHECK(recorded(p).empty());
  CHECK(fakeChannels(fake)[rows[0].id] == true);

  // on again, and Google refuses the watch once: nothing is left recorded, the next round opens it
  PairChange on;
  on.enabled = true;
  REQUIRE(pairs.change(p.pairId, on));
  fake.faults(json::array({{{"method", "calendar.events.watch"}, {"status", 400}, {"times", 1}}}));
  round = maintainer.maintain();
  REQUIRE(round);
  CHECK(round->failed == 1);
  REQUIRE(round->errors.size() == 1);
  CHECK(recorded(p).empty());
  round = maintainer.maintain();
  REQUIRE(round);
  CHECK(round->opened == 1);
  CHECK(recorded(p).size() == 1);

  // without an address push is off: nothing is opened or stopped
  PushMaintainer off2(p.f.t.db(), p.f.clock, factory, {});
  round = off2.maintain();
  REQUIRE(round);
  CHECK(round->opened + round->stopped == 0);
}
