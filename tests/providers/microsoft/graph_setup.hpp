#pragma once
// What the Graph adapter's contract tests share: a fake with one user and the adapter on it, a
// source event and its approval for a Microsoft 365 target, and lookups in what the fake saw.
#include "calgate/policy/evaluator.hpp"
#include "calgate/providers/http/curl_http_client.hpp"
#include "calgate/providers/microsoft/graph_provider.hpp"
#include "support/approved_write.hpp"
#include "support/graph_fake.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

namespace calgate::test::graph {

using namespace calgate::model;
using namespace calgate::providers;
using namespace calgate::providers::microsoft;
using namespace std::chrono;
using nlohmann::json;
using calgate::test::approvedWrite;

inline const std::string kUser = "ada@contoso.example";
inline const TimeWindow kWindow{sys_days{2026y / May / 1}, sys_days{2027y / June / 1}};

inline json timed(const std::string& subject, const std::string& start, const std::string& end, const std::string& zone = "UTC") {
  return {{"subject", subject}, {"start", {{"dateTime", start}, {"timeZone", zone}}}, {"end", {{"dateTime", end}, {"timeZone", zone}}}};
}

struct Setup {
  GraphFake fake;
  std::string calendar;
  std::unique_ptr<GraphTokens> tokens;
  CurlHttpClient http{GraphFake::httpOptions()};
  std::vector<milliseconds> sleeps;
  std::unique_ptr<GraphProvider> provider;
  std::size_t seen = 0;

  explicit Setup(const std::map<std::string, std::string>& switches = {}, GraphOptions options = {}) : fake(switches) {
    calendar = fake.addUser(kUser);
    fake.clock({{"now", "2026-06-01T00:00:00Z"}, {"frozen", true}});
    tokens = std::make_unique<GraphTokens>(fake, kUser);
    options.sleep = [this](milliseconds d) { sleeps.push_back(d); };
    provider = std::make_unique<GraphProvider>(http, *tokens, core::systemClock(), GraphEndpoints{fake.url}, options);
  }
  std::vector<json> requests() { return fake.requestsSince(seen); }
  ChangeSet pull(const std::string& cursor = "", const TimeWindow& window = kWindow) {
    auto r = provider->pullChanges(calendar, cursor, window);
    INFO((r ? "" : r.error().message));
    REQUIRE(r);
    return std::move(*r);
  }
};

/// Switches that make the fake deterministic where a test counts items.
inline const std::map<std::string, std::string> kPlain{{"replayRate", "0"}, {"duplicateRate", "0"}, {"emptyPages", "false"}, {"shuffle", "false"}};

inline policy::ApprovedWrite approve(const Event& source, const std::string& calendar, bool removal = false) {
  return approvedWrite(source, calendar, ProviderKind::Microsoft, "contoso.example", "pr_graph_test", removal);
}

inline Event sourceEvent(const std::string& title, int day = 10, const std::string& zone = "Europe/Berlin") {
  Event e;
  e.uid = "src-" + title;
  e.title = title;
  e.description = "notes";
  e.start = *zonedFromLocal(local_days{2026y / June / day} + 14h, zone);
  e.end = *zonedFromLocal(local_days{2026y / June / day} + 15h, zone);
  return e;
}

inline const Event* byTitle(const std::vector<Event>& events, const std::string& title) {
  for (const auto& e : events) {
    if (e.title == title) return &e;
  }
  return nullptr;
}

inline std::size_t count(const std::vector<json>& requests, const std::string& route) {
  return static_cast<std::size_t>(std::count_if(requests.begin(), requests.end(), [&](const json& r) { return r["route"] == route; }));
}


}  // namespace calgate::test::graph
