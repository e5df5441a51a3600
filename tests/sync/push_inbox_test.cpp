// Push notifications at the door (PushInbox): a genuine change queues one sync per pair that
// reads the calendar (coalesced), anything else -- unknown channels, wrong tokens, another
// resource, malformed headers, expired channels -- causes no work. Runs on SQLite and PostgreSQL.
#include "calgate/sync/job_queue.hpp"
#include "calgate/sync/push_channels.hpp"
#include "calgate/sync/push_inbox.hpp"
#include "sync/sync_fixture.hpp"

#include <catch2/catch.hpp>

using namespace calgate;
using namespace calgate::sync;

namespace {

long long queued(test::SyncFixture& f) {
  auto s = JobQueue(f.t.db(), f.clock).stats();
  REQUIRE(s);
  return s->queued;
}

GoogleNotification note(const std::string& channel, const std::string& token, const std::string& state = "exists",
                        const std::string& number = "7") {
  return {channel, token, "res-1", state, number};
}

}  // namespace

TEST_CASE("push inbox: a genuine Google notification queues the pairs reading the calendar once; nothing else causes work",
          "[sync][push]") {
  test::SyncFixture f(Direction::TwoWay);
  PushChannelStore channels(f.t.db(), f.clock);
  const long long now = f.clock.nowUnixSeconds();
  REQUIRE(channels.opening("ch_work", "google", f.workCal.id, channelTokenHash("right-token"), now + 86400));
  PushInbox inbox(f.t.db(), f.clock);

  // while the channel opens, Google's first message may come before its answer: accepted, no work
  auto r = inbox.google(note("ch_work", "right-token", "sync", "1"));
  REQUIRE(r);
  CHECK(r->outcome == PushOutcome::NoWork);
  REQUIRE(channels.activate("ch_work", "res-1", now + 6 * 86400));
  const long long before = queued(f);

  r = inbox.google(note("ch_work", "right-token"));
  REQUIRE(r);
  CHECK(r->outcome == PushOutcome::Queued);
  CHECK(r->pairsQueued == 1);
  // a burst is one run: the pair's sync is queued already; message numbers may jump
  r = inbox.google(note("ch_work", "right-token", "exists", "12"));
  REQUIRE(r);
  CHECK(r->outcome == PushOutcome::Queued);
  CHECK(r->pairsQueued == 0);
  CHECK(queued(f) == before + 1);

  // forged or unknown: no work
  const std::vector<std::pair<GoogleNotification, PushOutcome>> refused{
      {note("ch_work", "wrong-token"), PushOutcome::Rejected},
      {note("ch_work", "right-tokeN"), PushOutcome::Rejected},
      {{"ch_work", "right-token", "res-2", "exists", "8"}, PushOutcome::Rejected},  // another resource
      {{"ch_work", "right-token", "res-1", "exists", "eight"}, PushOutcome::Rejected},
      {{"ch_work", "right-token", "res-1", "deleted", "8"}, PushOutcome::Rejected},
      {{"ch_work", "", "res-1", "exists", "8"}, PushOutcome::Rejected},
      {{"ch_work", std::string(300, 'x'), "res-1", "exists", "8"}, PushOutcome::Rejected},
      {note("ch_unknown", "right-token"), PushOutcome::Unknown},
  };
  JobQueue jobs(f.t.db(), f.clock);
  for (const auto& [n, outcome] : refused) {
    INFO(n.channelId << " " << n.resourceId << " " << n.resourceState << " " << n.messageNumber);
    auto seen = inbox.google(n);
    REQUIRE(seen);
    CHECK(seen->outcome == outcome);
    CHECK(seen->pairsQueued == 0);
  }

  // the target of a two-way pair is read too; a channel that expired is nobody's
  auto claimed = jobs.claim("test");
  REQUIRE(claimed);
  REQUIRE(*claimed);
  REQUIRE(jobs.complete(**claimed, "test"));
  REQUIRE(channels.opening("ch_home", "google", f.homeCal.id, channelTokenHash("home-token"), now + 60));
  REQUIRE(channels.activate("ch_home", "res-1", now + 60));
  r = inbox.google(note("ch_home", "home-token"));
  REQUIRE(r);
  CHECK(r->pairsQueued == 1);
  f.clock.advance(std::chrono::minutes(2));
  r = inbox.google(note("ch_home", "home-token"));
  REQUIRE(r);
  CHECK(r->outcome == PushOutcome::Unknown);
}

TEST_CASE("push inbox: the target of a one-way pair is not read, so its notifications queue nothing", "[sync][push]") {
  test::SyncFixture f(Direction::OneWay);
  PushChannelStore channels(f.t.db(), f.clock);
  const long long now = f.clock.nowUnixSeconds();
  REQUIRE(channels.opening("ch_home", "google", f.homeCal.id, channelTokenHash("t"), now + 86400));
  REQUIRE(channels.activate("ch_home", "res-1", now + 86400));
  auto r = PushInbox(f.t.db(), f.clock).google(note("ch_home", "t"));
  REQUIRE(r);
  CHECK(r->outcome == PushOutcome::Queued);
  CHECK(r->pairsQueued == 0);
}

namespace {

std::string graphPost(const std::vector<nlohmann::json>& items) { return nlohmann::json{{"value", items}}.dump(); }

nlohmann::json change(const std::string& subscription, const std::string& state) {
  return {{"subscriptionId", subscription}, {"clientState", state}, {"changeType", "updated"},
          {"resource", "Users/u1/Events/e1"}, {"tenantId", "t1"}};
}

nlohmann::json lifecycle(const std::string& subscription, const std::string& state, const std::string& event) {
  return {{"subscriptionId", subscription}, {"clientState", state}, {"lifecycleEvent", event}};
}

}  // namespace

TEST_CASE("push inbox: Graph notifications are proven by their clientState and subscription; lifecycle events each do their own",
          "[sync][push]") {
  test::SyncFixture f(Direction::OneWay);
  PushChannelStore channels(f.t.db(), f.clock);
  const long long now = f.clock.nowUnixSeconds();
  REQUIRE(channels.opening("ch_graph", "microsoft", f.workCal.id, channelTokenHash("state-1"), now + 2 * 86400));
  PushInbox inbox(f.t.db(), f.clock);

  // before Graph's answer is recorded a notification may come: its clientState suffices
  auto r = inbox.microsoft(graphPost({change("sub-1", "state-1")}));
  REQUIRE(r);
  CHECK(r->outcome == PushOutcome::Queued);
  CHECK(r->pairsQueued == 1);
  REQUIRE(channels.activate("ch_graph", "sub-1", now + 2 * 86400));
  auto claimed = JobQueue(f.t.db(), f.clock).claim("test");
  REQUIRE((claimed && *claimed));
  REQUIRE(JobQueue(f.t.db(), f.clock).complete(**claimed, "test"));

  // several items, of which one genuine: taken
  r = inbox.microsoft(graphPost({change("sub-1", "wrong"), change("sub-1", "state-1"), change("sub-9", "nobody's")}));
  REQUIRE(r);
  CHECK(r->outcome == PushOutcome::Queued);
  CHECK(r->pairsQueued == 1);

  // forged, malformed, unknown: no work
  const std::vector<std::pair<std::string, PushOutcome>> refused{
      // a clientState calgate does not know is a subscription it no longer has, or a guess: no work
      {graphPost({change("sub-1", "wrong")}), PushOutcome::Unknown},
      {graphPost({change("sub-2", "state-1")}), PushOutcome::Rejected},  // the token, but another subscription
      {graphPost({lifecycle("sub-1", "state-1", "somethingElse")}), PushOutcome::Queued},  // taken, nothing done
      {graphPost({{{"subscriptionId", "sub-1"}}}), PushOutcome::Rejected},
      {graphPost({nlohmann::json(42)}), PushOutcome::Rejected},
      {graphPost({}), PushOutcome::Rejected},
      {"{\"value\": {}}", PushOutcome::Rejected},
      {"not json", PushOutcome::Rejected},
      {graphPost(std::vector<nlohmann::json>(101, change("sub-1", "state-1"))), PushOutcome::Rejected},
      {graphPost({change("sub-1", "another channel's state")}), PushOutcome::Unknown},
      {graphPost({change("sub-1", std::string(129, 's'))}), PushOutcome::Rejected},
  };
  for (const auto& [body, outcome] : refused) {
    INFO(body.substr(0, 200));
    auto seen = inbox.microsoft(body);
    REQUIRE(seen);
    CHECK(seen->outcome == outcome);
    CHECK(seen->pairsQueued == 0);
  }
  REQUIRE(channels.opening("ch_google", "google", f.workCal.id, channelTokenHash("g-state"), now + 86400));
  r = inbox.microsoft(graphPost({change("sub-1", "g-state")}));  // a Google channel's token is not a subscription
  REQUIRE(r);
  CHECK(r->outcome == PushOutcome::Unknown);
  REQUIRE(channels.remove("ch_google"));

  const auto upkeepQueued = [&] {
    auto s = JobQueue(f.t.db(), f.clock).stats();
    REQUIRE(s);
    return s->queued;
  };
  // reauthorizationRequired: marked for the upkeep job, no sync
  claimed = JobQueue(f.t.db(), f.clock).claim("test");
  REQUIRE((claimed && *claimed));
  REQUIRE(JobQueue(f.t.db(), f.clock).complete(**claimed, "test"));
  REQUIRE(upkeepQueued() == 0);
  r = inbox.microsoft(graphPost({lifecycle("sub-1", "state-1", "reauthorizationRequired")}));
  REQUIRE(r);
  CHECK(r->pairsQueued == 0);
  auto channel = channels.find("ch_graph");
  REQUIRE((channel && *channel));
  CHECK((*channel)->reauthorize);
  CHECK(upkeepQueued() == 1);  // push_maintain
  // missed: the calendar is synced (its delta link catches up)
  r = inbox.microsoft(graphPost({lifecycle("sub-1", "state-1", "missed")}));
  REQUIRE(r);
  CHECK(r->pairsQueued == 1);
  // subscriptionRemoved: forgotten (the upkeep makes a new one), and synced
  r = inbox.microsoft(graphPost({lifecycle("sub-1", "state-1", "subscriptionRemoved")}));
  REQUIRE(r);
  CHECK(r->outcome == PushOutcome::Queued);
  channel = channels.find("ch_graph");
  REQUIRE(channel);
  CHECK_FALSE(*channel);
}
