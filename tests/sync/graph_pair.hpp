#pragma once
// The sync engine with Microsoft 365 (the Graph contract fake) on a side: a Graph calendar as its
// user sees it (the fake's control interface) with calgate's adapter, and pairs of it with
// Radicale or with a second Graph calendar in an EnginePair (google_pair.hpp) whose OAuth account
// is Microsoft 365.
#include "calgate/providers/microsoft/graph_provider.hpp"
#include "support/graph_fake.hpp"
#include "sync/google_pair.hpp"

#include <catch2/catch.hpp>

namespace calgate::test {

inline const std::string kGraphUser = "ada@contoso.example";

/// A Graph calendar as its user sees it (the fake's control interface), and calgate's adapter.
struct GraphSide {
  GraphFake& fake;
  std::string user;
  std::string calendar;
  providers::CurlHttpClient http{GraphFake::httpOptions()};
  GraphTokens tokens;
  std::unique_ptr<providers::microsoft::GraphProvider> provider;

  GraphSide(GraphFake& f, const std::string& owner, std::string calendarId, providers::microsoft::GraphOptions o = {})
      : fake(f), user(owner), calendar(std::move(calendarId)), tokens(f, owner) {
    o.sleep = [](std::chrono::milliseconds) {};  // backoff without waiting
    provider = std::make_unique<providers::microsoft::GraphProvider>(http, tokens, core::systemClock(),
                                                                     providers::microsoft::GraphEndpoints{f.url}, o);
  }
  nlohmann::json create(const nlohmann::json& event) { return fake.userCreates(calendar, event); }
  nlohmann::json edit(const std::string& id, const nlohmann::json& patch) { return fake.userEdits(id, patch); }
  void remove(const std::string& id) { fake.userDeletes(id); }
  /// The stored events (single instances and series masters).
  nlohmann::json stored() { return fake.events(calendar); }
  /// The ids of series `masterId`'s occurrences and exceptions starting in [from, to) (RFC 3339
  /// UTC), as Outlook lists them (Graph's instances call).
  std::vector<std::string> instanceIds(const std::string& masterId, const std::string& from, const std::string& to) {
    providers::HttpRequest r;
    r.url = fake.url + "v1.0/me/events/" + masterId + "/instances?startDateTime=" + from + "&endDateTime=" + to;
    r.headers = {{"Authorization", "Bearer " + fake.accessToken(user)}};
    auto a = http.send(r);
    REQUIRE(a);
    REQUIRE(a->status == 200);
    const auto answer = nlohmann::json::parse(a->body);
    std::vector<std::string> out;
    for (const auto& item : answer["value"]) out.push_back(item["id"]);
    return out;
  }
  /// What calgate reads of the calendar in the test window (occurrences as events of their own).
  std::vector<model::Event> events() {
    auto all = provider->pullChanges(calendar, "", kGoogleWindow);
    REQUIRE(all);
    return all->changed;
  }
};

/// A fake with the Microsoft 365 user, its clock frozen at the engine's now (2026-11-21 09:00 UTC).
inline GraphFake& preparedGraph(GraphFake& f) {
  f.addUser(kGraphUser);
  f.clock({{"now", "2026-11-21T09:00:00Z"}, {"frozen", true}});
  return f;
}

/// The Microsoft 365 user's default calendar and a new Radicale calendar, paired in an EnginePair.
///   GraphAndRadicale t(From::Graph, Direction::OneWay, "prefix");  auto& [fake, m, dav, davCal, p] = t;
struct GraphAndRadicale {
  enum class From { Graph, Radicale };
  GraphFake fake;
  GraphSide graph;
  Dav dav{"radicale"};
  std::string davCalendar;
  EnginePair pair;

  GraphAndRadicale(From from, sync::Direction direction, const std::string& prefix, policy::PairRules rules = {},
                   const std::map<std::string, std::string>& switches = {})
      : fake(switches), graph(fake, kGraphUser, preparedGraph(fake).defaultCalendar(kGraphUser)), davCalendar(dav.makeCalendar(prefix)),
        pair(direction, model::ProviderKind::Microsoft) {
    const auto m = pair.oauthCalendar(graph.calendar);
    const auto d = pair.davCalendar(davCalendar, from == From::Radicale);
    if (from == From::Graph) pair.pair(m, d, direction, std::move(rules));
    else pair.pair(d, m, direction, std::move(rules));
  }
};

/// Two calendars of the same Microsoft 365 user (default and "Team"), paired two-way.
///   GraphAndGraph t;  auto& [fake, a, b, p] = t;
struct GraphAndGraph {
  GraphFake fake;
  GraphSide primary{fake, kGraphUser, preparedGraph(fake).defaultCalendar(kGraphUser)};
  GraphSide team{fake, kGraphUser, fake.addCalendar(kGraphUser, "Team")};
  EnginePair pair{sync::Direction::TwoWay, model::ProviderKind::Microsoft};

  explicit GraphAndGraph(policy::PairRules rules = {}) {
    pair.pair(pair.oauthCalendar(primary.calendar), pair.oauthCalendar(team.calendar), sync::Direction::TwoWay, std::move(rules));
  }
};

/// A Google Workspace user's primary calendar and the same person's Microsoft 365 calendar (two
/// accounts of one calgate user), paired in an EnginePair.
///   GoogleAndGraph t(GoogleAndGraph::From::Google, Direction::OneWay);  auto& [gfake, mfake, g, m, p] = t;
struct GoogleAndGraph {
  enum class From { Google, Graph };
  GoogleFake googleFake;
  GraphFake graphFake;
  GoogleSide google{GoogleAndRadicale::prepared(googleFake), kGoogleUser, kGoogleUser};
  GraphSide graph{graphFake, kGraphUser, preparedGraph(graphFake).defaultCalendar(kGraphUser)};
  EnginePair pair;

  GoogleAndGraph(From from, sync::Direction direction, policy::PairRules rules = {}) : pair(direction) {
    const auto g = pair.googleCalendar(kGoogleUser);
    const auto m = pair.accountCalendar(pair.addAccount(model::ProviderKind::Microsoft), graph.calendar);
    if (from == From::Google) pair.pair(g, m, direction, std::move(rules));
    else pair.pair(m, g, direction, std::move(rules));
  }
};

}  // namespace calgate::test
