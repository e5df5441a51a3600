// The Microsoft Graph adapter against the contract fake (tests/services/microsoft/main.mjs, spawned
// here):
//   build/bench/bench/calgate_bench_graph [events]      (default 10000; needs node + npm ci)
// Reports, for a calendar of N events:
//   - the initial delta round (pullChanges without cursor): time, events/s, requests, CPU per event;
//   - requests per changed event on the source side: 1 % of the events edited, one delta round;
//   - the initial sync into Microsoft 365 as a target: N creates written as the engine writes them
//     (writeBatch, 20 per $batch, earlier copies found through one listing of the pair's copies):
//     time, events/s, requests per event, CPU per event; then 1 % of them updated: requests per
//     changed event.
// The fake runs with Graph's looseness off (no replays, duplicates or empty pages) and its
// per-mailbox budget lifted, so the adapter's own cost is measured.
#include "contract_fake.hpp"
#include "calgate/providers/microsoft/graph_provider.hpp"

#include <chrono>
#include <string>

using namespace calgate;
using namespace std::chrono;
using nlohmann::json;

namespace {

const std::string kUser = "bench@contoso.example";
const std::string kClient = "11111111-2222-4333-8444-555555555555";

std::string at(int i, int hour) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "2026-%02d-%02dT%02d:%02d:00", 1 + (i / 28) % 12, 1 + i % 28, hour, (i * 7) % 60);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  bench::ContractFake fake("microsoft", {"replayRate=0", "duplicateRate=0", "emptyPages=false", "shuffle=false",
                                         "mailboxRequestsPer10Min=null", "transactionIdWindowMs=0"});
  static pid_t child = fake.pid;  // bench::die() exits: the fake goes with it
  std::atexit([] { ::kill(child, SIGTERM); });
  fake.control("POST", "users", {{"email", kUser}});
  fake.control("POST", "clients", {{"clientId", kClient}, {"clientSecret", "s"}, {"redirectUris", {"http://127.0.0.1:9/cb"}}});
  const json state = fake.control("GET", "state");  // kept: a range-for over a temporary's member would dangle
  const std::string source = state["calendars"][0]["id"];
  const std::string target = fake.control("POST", "calendars", {{"owner", kUser}, {"name", "Target"}})["id"];
  bench::FixedToken tokens(fake.control("POST", "tokens", {{"user", kUser}, {"clientId", kClient}, {"scopes", {"Calendars.ReadWrite"}}})["access_token"]);
  std::vector<std::string> ids;
  for (int start = 0; start < n; start += 1000) {
    json batch = json::array();
    for (int i = start; i < std::min(n, start + 1000); ++i) {
      batch.push_back({{"subject", "event " + std::to_string(i)}, {"start", {{"dateTime", at(i, 9)}, {"timeZone", "W. Europe Standard Time"}}},
                       {"end", {{"dateTime", at(i, 10)}, {"timeZone", "W. Europe Standard Time"}}}});
    }
    const auto created = fake.control("POST", "calendars/" + source + "/bulk-events", {{"events", batch}});
    for (const auto& id : created["ids"]) ids.push_back(id);
  }
  providers::CurlHttpClient http{[] {
    providers::HttpClientOptions o;
    o.allowLoopback = o.allowPlainHttp = true;
    return o;
  }()};
  providers::microsoft::GraphOptions options;
  options.pageSize = 1000;
  providers::microsoft::GraphProvider graph(http, tokens, core::systemClock(), {fake.url}, options);
  bench::measureAdapter(graph, model::ProviderKind::Microsoft, "Microsoft 365", source, target, n, "Europe/Berlin",
                        [&](int i) { fake.control("PATCH", "events/" + ids[static_cast<std::size_t>(i)], {{"subject", "changed"}}); });
  return 0;
}
