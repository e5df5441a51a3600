// A mailbox's requests in flight counted in the database (accounts::DatabaseSlots): two
// DatabaseSlots on one database stand for two calgate processes. Together they never hold more
// than the limit; a taker waits for a slot and gives up with Unavailable; a holder that died lets
// go when its lease lapses; and two Graph adapters of one mailbox, one per "process", keep Outlook's
// 4 requests at once between them (the contract fake throttles the fifth). On SQLite and
// PostgreSQL.
#include "calgate/accounts/database_slots.hpp"
#include "calgate/providers/http/curl_http_client.hpp"
#include "calgate/providers/microsoft/graph_provider.hpp"
#include "support/graph_fake.hpp"
#include "support/migrated_database.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace calgate;
using namespace std::chrono;
using calgate::accounts::DatabaseSlotOptions;
using calgate::accounts::DatabaseSlots;

namespace {

DatabaseSlotOptions recording(std::vector<milliseconds>& waits) {
  DatabaseSlotOptions o;
  o.sleep = [&waits](milliseconds d) { waits.push_back(d); };
  return o;
}

}  // namespace

TEST_CASE("database slots: two processes together hold at most the limit; a waiter gives up; a released slot is taken",
          "[store][slots]") {
  test::MigratedDatabase m;
  std::vector<milliseconds> waitsA, waitsB;
  DatabaseSlots a(m.t.db(), m.clock, recording(waitsA));
  DatabaseSlots b(m.t.db(), m.clock, recording(waitsB));
  const std::string key = "graph:acc_1";
  std::vector<std::uint64_t> held;
  for (int i = 0; i < 2; ++i) held.push_back(*a.acquire(key, 4, 0ms));
  for (int i = 0; i < 2; ++i) held.push_back(*b.acquire(key, 4, 0ms));
  CHECK(m.count("SELECT COUNT(*) FROM request_slots WHERE slot_key = 'graph:acc_1' AND holder IS NOT NULL") == 4);
  auto fifth = a.acquire(key, 4, 100ms);
  REQUIRE_FALSE(fifth);
  CHECK(fifth.error().code == core::ErrorCode::Unavailable);
  CHECK(fifth.error().retryAfter);
  CHECK_FALSE(waitsA.empty());  // it polled before giving up
  CHECK(waitsA.front() == 10ms);
  // another mailbox is not held up
  CHECK(b.acquire("graph:acc_2", 4, 0ms));
  b.release(key, held[2]);
  auto freed = a.acquire(key, 4, 0ms);
  REQUIRE(freed);
  // a ticket that is not held changes nothing
  a.release(key, 12345);
  CHECK(m.count("SELECT COUNT(*) FROM request_slots WHERE slot_key = 'graph:acc_1' AND holder IS NOT NULL") == 4);
}

TEST_CASE("database slots: a process that died holding slots lets go when their lease lapses", "[store][slots]") {
  test::MigratedDatabase m;
  std::vector<milliseconds> waits;
  DatabaseSlotOptions o = recording(waits);
  o.lease = 300s;
  {
    DatabaseSlots dead(m.t.db(), m.clock, o);
    for (int i = 0; i < 4; ++i) REQUIRE(dead.acquire("graph:acc_1", 4, 0ms));
  }  // gone without releasing
  DatabaseSlots alive(m.t.db(), m.clock, o);
  CHECK_FALSE(alive.acquire("graph:acc_1", 4, 0ms));
  m.clock.advance(301s);
  CHECK(alive.acquire("graph:acc_1", 4, 0ms));
}

TEST_CASE("two Graph adapters of one mailbox in two processes keep Outlook's 4 requests at once together",
          "[store][slots][microsoft]") {
  test::MigratedDatabase m;
  test::GraphFake fake({{"latencyMs", "120"}, {"replayRate", "0"}, {"duplicateRate", "0"}});
  const std::string user = "ada@contoso.example";
  fake.addUser(user);
  test::GraphTokens tokens(fake, user);
  // two processes, each with its own slots on the shared database, each syncing three pairs of the
  // mailbox at once: six adapters, each with its own connection
  DatabaseSlots slotsA(m.t.db(), core::systemClock());
  DatabaseSlots slotsB(m.t.db(), core::systemClock());
  std::vector<std::unique_ptr<providers::CurlHttpClient>> clients;
  std::vector<std::unique_ptr<providers::microsoft::GraphProvider>> adapters;
  for (int i = 0; i < 6; ++i) {
    providers::microsoft::GraphOptions o;
    DatabaseSlots& slots = i < 3 ? slotsA : slotsB;
    o.slots = std::shared_ptr<providers::RequestSlots>(&slots, [](providers::RequestSlots*) {});
    o.slotKey = "graph:acc_ada";
    o.sleep = [](milliseconds) {};
    clients.push_back(std::make_unique<providers::CurlHttpClient>(test::GraphFake::httpOptions()));
    adapters.push_back(std::make_unique<providers::microsoft::GraphProvider>(*clients.back(), tokens, core::systemClock(),
                                                                             providers::microsoft::GraphEndpoints{fake.url}, o));
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (auto& adapter : adapters) {
    threads.emplace_back([&failures, &p = *adapter] {
      for (int k = 0; k < 2; ++k) {
        if (!p.listCalendars()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  std::size_t throttled = 0, sent = 0;
  const auto state = fake.state();
  for (const auto& r : state["requests"]) {
    if (r["route"] != "calendars.list") continue;
    ++sent;
    if (r["status"] == 429) ++throttled;
  }
  CHECK(sent == 12);
  CHECK(throttled == 0);  // never a fifth request in flight at the mailbox
}
