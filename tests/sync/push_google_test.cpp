// Push channels on Google calendars (PushMaintainer) against the Google contract fake: a channel
// per calendar a pair reads, renewed by a new channel before it expires (both open until the new
// one is recorded, then the old one stopped), stopped when no pair reads the calendar, a refused
// watch forgotten and tried again. Needs the caldav service fixture and node.
#include "calgate/sync/push_channels.hpp"
#include "sync/push_support.hpp"
#include "calgate/sync/push_maintainer.hpp"
#include "sync/google_pair.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>

#include <catch2/catch.hpp>

using namespace calgate;
using namespace calgate::sync;
using namespace std::chrono;
using From = calgate::test::GoogleAndRadicale::From;
using nlohmann::json;

namespace {

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
  test::OneAdapter factory(adapter);
  PushMaintainer maintainer(p.f.t.db(), p.f.clock, factory, {"https://127.0.0.1:9"});

  auto round = maintainer.maintain();
  REQUIRE(round);
  CHECK(round->opened == 1);  // the Google source; the Radicale target has no push
  CHECK(round->failed == 0);
  auto rows = test::recordedChannels(p);
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
  rows = test::recordedChannels(p);
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
  CHECK(test::recordedChannels(p).empty());
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
  CHECK(test::recordedChannels(p).empty());
  auto refusals = PushChannelStore(p.f.t.db(), p.f.clock).refusals();
  REQUIRE(refusals);
  REQUIRE(refusals->size() == 1);
  CHECK(refusals->front().retryAt == p.f.clock.nowUnixSeconds() + 600);
  // asked again only when the wait is over (10 minutes, doubling), not on every round
  round = maintainer.maintain();
  REQUIRE(round);
  CHECK(round->opened + round->failed == 0);
  p.f.clock.advance(minutes(11));
  round = maintainer.maintain();
  REQUIRE(round);
  CHECK(round->opened == 1);
  CHECK(test::recordedChannels(p).size() == 1);
  refusals = PushChannelStore(p.f.t.db(), p.f.clock).refusals();
  REQUIRE(refusals);
  CHECK(refusals->empty());

  // one round at a time across processes: while another holds the upkeep, a round does nothing
  PushChannelStore store(p.f.t.db(), p.f.clock);
  REQUIRE(*store.takeUpkeep("another process", p.f.clock.nowUnixSeconds() + 60));
  round = maintainer.maintain();
  REQUIRE(round);
  CHECK(round->busy);
  REQUIRE(store.releaseUpkeep("another process"));
  round = maintainer.maintain();
  REQUIRE(round);
  CHECK_FALSE(round->busy);

  // a spare channel of the same calendar (two rounds raced, or a stop failed): the shorter one goes
  const auto kept = test::recordedChannels(p);
  REQUIRE(kept.size() == 1);
  REQUIRE(store.opening("ch_spare", "google", kept[0].calendarId, "0000", kept[0].expiresAt - 3600));
  REQUIRE(store.activate("ch_spare", "res-spare", kept[0].expiresAt - 3600));
  round = maintainer.maintain();
  REQUIRE(round);
  CHECK(round->stopped == 1);
  CHECK(round->opened == 0);
  REQUIRE(test::recordedChannels(p).size() == 1);
  CHECK(test::recordedChannels(p)[0].id == kept[0].id);

  // without an address push is off: nothing is opened or stopped
  PushMaintainer off2(p.f.t.db(), p.f.clock, factory, {});
  round = off2.maintain();
  REQUIRE(round);
  CHECK(round->opened + round->stopped == 0);
}

namespace {

/// Each calendar its own adapter (by calgate's calendar id), as the vault's factory would.
struct ByCalendar final : sync::ProviderFactory {
  std::map<std::string, providers::Provider*> adapters;
  core::Result<std::unique_ptr<providers::Provider>> open(const CalendarRef& calendar, Deadline) override {
    return std::make_unique<providers::ForwardingProvider>(*adapters.at(calendar.id));
  }
};

/// Runs every due job as a worker of `service` would; how many ran.
int drain(SyncService& service, test::EnginePair& p) {
  JobQueue queue(p.f.t.db(), p.f.clock);
  for (int ran = 0; ran < 20; ++ran) {
    auto job = queue.claim("test-worker");
    REQUIRE(job);
    if (!*job) return ran;
    auto done = service.handle(**job);
    INFO((**job).kind << ": " << (done ? "" : done.error().describe()));
    REQUIRE(done);
    REQUIRE(queue.complete(**job, "test-worker"));
  }
  FAIL("jobs kept coming");
  return -1;
}

}  // namespace

TEST_CASE("a change whose notification Google dropped is copied by the safety poll; until then the pushed calendar is "
          "not polled",
          "[sync][google][push]") {
  // Google loses every change notification (its notifications "are not 100 % reliable")
  calgate::test::GoogleAndRadicale t(From::Google, Direction::OneWay, "safety", {},
                                     {{"deliveryRetries", "0"}, {"notificationDropRate", "1"}});
  auto& [fake, g, dav, davCal, p] = t;
  providers::google::GoogleOptions o;
  o.sleep = [](milliseconds) {};
  providers::google::GoogleProvider adapter(g.http, g.tokens, p.f.clock, providers::google::GoogleEndpoints{fake.url}, o);
  ByCalendar factory;
  factory.adapters[p.googleCalendar(test::kGoogleUser).id] = &adapter;
  factory.adapters[p.davCalendar(davCal, false).id] = dav.provider.get();
  SyncConfig config;
  config.workers = 0;
  config.pollInterval = seconds(60);
  config.safetyPollInterval = seconds(3600);
  config.pushBaseUrl = "https://127.0.0.1:9";
  test::TempDir data;
  SyncService service(p.f.t.db(), p.f.orgs, factory, p.f.clock, config, ProcessIdentity::current(data.path()));
  PairChange off;  // only the Google pair: the fixture's own CalDAV pair stays out
  off.enabled = false;
  REQUIRE(PairStore(p.f.t.db(), p.f.clock).change(p.f.pairId, off));

  // the first tick: the pair's first sync, then a channel on its Google source
  REQUIRE(*service.schedule() == 1);
  drain(service, p);
  REQUIRE(test::recordedChannels(p).size() == 1);
  CHECK(test::recordedChannels(p)[0].active);

  // the user adds an event; its notification never comes
  g.create({{"summary", "Dropped"}, {"start", {{"dateTime", "2026-12-02T10:00:00Z"}}}, {"end", {{"dateTime", "2026-12-02T11:00:00Z"}}}});
  const auto deliveries = fake.state()["deliveries"];
  CHECK(std::count_if(deliveries.begin(), deliveries.end(), [](const json& d) { return d.value("dropped", false); }) == 1);
  const auto copies = dav.events(davCal).size();

  // poll ticks within the safety interval leave the pushed pair alone
  for (int tick = 0; tick < 3; ++tick) {
    p.f.clock.advance(config.pollInterval);
    REQUIRE(*service.schedule() == 0);
    drain(service, p);
  }
  CHECK(dav.events(davCal).size() == copies);

  // the safety poll: an hour after the last sync the pair is pulled anyway, and the change is copied
  p.f.clock.advance(config.safetyPollInterval);
  REQUIRE(*service.schedule() == 1);
  drain(service, p);
  CHECK(dav.events(davCal).size() == copies + 1);

  // without a channel (it was stopped; the provider refuses) the pair is polled every tick again
  REQUIRE(PushChannelStore(p.f.t.db(), p.f.clock).remove(test::recordedChannels(p)[0].id));
  REQUIRE(PushChannelStore(p.f.t.db(), p.f.clock).refused(p.googleCalendar(test::kGoogleUser).id, "test: refused"));
  p.f.clock.advance(config.pollInterval);
  CHECK(*service.schedule() == 1);
}
