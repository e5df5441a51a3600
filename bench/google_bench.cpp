// The Google adapter against the contract fake (tests/services/google/main.mjs, spawned here):
//   build/release/bench/calgate_bench_google [events]      (default 10000; needs node + npm ci)
// Reports, for a calendar of N events:
//   - the initial listing (pullChanges without cursor): time, events/s, requests;
//   - requests per changed event on the source side: 1 % of the events edited, one incremental pull;
//   - the initial sync into Google as a target: N creates through the adapter: time, events/s,
//     requests per event, written as the engine writes them (writeBatch, 50 per batch request);
//     then 1 % of them updated: requests per changed event.
// Pacing is off (the fake has no rate limit here) so the adapter's own cost is measured.
#include "contract_fake.hpp"
#include "calgate/providers/google/google_provider.hpp"
#include "calgate/providers/http/curl_http_client.hpp"

#include <chrono>
#include <string>

using namespace calgate;
using namespace std::chrono;
using nlohmann::json;

namespace {

const std::string kUser = "bench@acme.example";

std::string at(int i, int hour) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "2026-%02d-%02dT%02d:%02d:00Z", 1 + (i / 28) % 12, 1 + i % 28, hour, (i * 7) % 60);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  bench::ContractFake fake("google", {"shortPages=false"});
  static pid_t child = fake.pid;  // bench::die() exits: the fake goes with it
  std::atexit([] { ::kill(child, SIGTERM); });
  fake.control("POST", "users", {{"email", kUser}, {"hd", "acme.example"}});
  fake.control("POST", "clients", {{"clientId", "bench"}, {"clientSecret", "s"}, {"redirectUris", {"http://127.0.0.1:9/cb"}}});
  const std::string target = fake.control("POST", "calendars", {{"owner", kUser}, {"summary", "Target"}})["id"];
  bench::FixedToken tokens(fake.control("POST", "tokens", {{"user", kUser}, {"clientId", "bench"},
                                                {"scopes", {"https://www.googleapis.com/auth/calendar.events",
                                                            "https://www.googleapis.com/auth/calendar.calendarlist.readonly"}}})["access_token"]);
  std::vector<std::string> ids;
  for (int start = 0; start < n; start += 1000) {
    json batch = json::array();
    for (int i = start; i < std::min(n, start + 1000); ++i) {
      batch.push_back({{"summary", "event " + std::to_string(i)}, {"start", {{"dateTime", at(i, 9)}}}, {"end", {{"dateTime", at(i, 10)}}}});
    }
    const auto created = fake.control("POST", "calendars/" + kUser + "/bulk-events", {{"events", batch}});
    for (const auto& id : created["ids"]) ids.push_back(id);
  }
  providers::CurlHttpClient http{[] {
    providers::HttpClientOptions o;
    o.allowLoopback = o.allowPlainHttp = true;
    return o;
  }()};
  providers::google::GoogleOptions options;
  options.requestsPerMinute = 0;
  providers::google::GoogleProvider google(http, tokens, core::systemClock(), {fake.url}, options);
  bench::measureAdapter(google, model::ProviderKind::Google, "Google", kUser, target, n, "UTC",
                        [&](int i) { fake.control("PATCH", "calendars/" + kUser + "/events/" + ids[static_cast<std::size_t>(i)], {{"summary", "changed"}}); });
  return 0;
}
