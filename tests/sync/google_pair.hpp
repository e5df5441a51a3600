#pragma once
// The sync engine between Google (the contract fake) and Radicale, or Google and Google: a
// SyncFixture's store with a Google account (proven acme.example Workspace identity), sides that
// act as their users do (Google: the fake's control interface; CalDAV: a client's PUT and DELETE),
// and a pair between any two of them. sync() previews, runs, and checks that the run applied
// exactly the previewed steps with one provider write each.
#include "calgate/providers/google/google_provider.hpp"
#include "support/google_fake.hpp"
#include "sync/dav_pair.hpp"

#include <catch2/catch.hpp>

namespace calgate::test {

inline const providers::TimeWindow kGoogleWindow{std::chrono::sys_days{std::chrono::year(2026) / 1 / 1},
                                                 std::chrono::sys_days{std::chrono::year(2028) / 1 / 1}};

/// A Google calendar as its user sees it (the fake's control interface), and calgate's adapter.
struct GoogleSide {
  GoogleFake& fake;
  std::string calendar;
  providers::CurlHttpClient http{GoogleFake::httpOptions()};
  FakeTokens tokens;
  std::unique_ptr<providers::google::GoogleProvider> provider;

  GoogleSide(GoogleFake& f, const std::string& user, std::string calendarId, providers::google::GoogleOptions o = {})
      : fake(f), calendar(std::move(calendarId)), tokens(f, user) {
    o.sleep = [](std::chrono::milliseconds) {};  // backoff without waiting
    provider = std::make_unique<providers::google::GoogleProvider>(http, tokens, core::systemClock(),
                                                                   providers::google::GoogleEndpoints{f.url}, o);
  }
  nlohmann::json create(const nlohmann::json& event) { return fake.userCreates(calendar, event); }
  nlohmann::json edit(const std::string& id, const nlohmann::json& patch) { return fake.userEdits(calendar, id, patch); }
  void remove(const std::string& id) { fake.userDeletes(calendar, id); }
  /// What the calendar holds and shows (not cancelled), masters and changed occurrences.
  std::vector<nlohmann::json> live() {
    std::vector<nlohmann::json> out;
    for (const auto& e : fake.events(calendar)) {
      if (e.value("status", "") != "cancelled") out.push_back(e);
    }
    return out;
  }
  std::vector<model::Event> events() {
    auto all = provider->pullChanges(calendar, "", kGoogleWindow);
    REQUIRE(all);
    return all->changed;
  }
};

/// A pair in a SyncFixture's store between two calendars with their adapters.
/// Its OAuth account is Google (ada@acme.example, a proven acme.example Workspace identity) or
/// Microsoft 365 (ada@contoso.example in the contoso tenant).
struct EnginePair {
  SyncFixture f;
  std::string googleAccountId;  ///< the OAuth account (Google or Microsoft 365)
  std::string pairId;
  std::size_t writes = 0;

  explicit EnginePair(sync::Direction direction, model::ProviderKind oauth = model::ProviderKind::Google) : f(direction) {
    googleAccountId = addAccount(oauth);
    f.engine->setWriteObserver([this](std::string_view, std::string_view) { ++writes; });
  }
  /// Another OAuth account of the fixture's user: Google (ada@acme.example) or Microsoft 365
  /// (ada@contoso.example); its id.
  std::string addAccount(model::ProviderKind kind) {
    accounts::AccountStore accounts(f.t.db(), *f.vault, f.clock);
    const bool google = kind == model::ProviderKind::Google;
    auto a = google ? accounts.create({f.userId, kind, "ada@acme.example", std::string("https://oauth2.googleapis.com/"),
                                       model::googleIdentities("ada@acme.example", true, "acme.example"), "google|ada"},
                                      vault::SecretBytes{'r', 't'})
                    : accounts.create({f.userId, kind, "ada@contoso.example", std::string("https://graph.microsoft.com/"),
                                       model::microsoftIdentities("ada@contoso.example", "3f2b6a0e-1c4d-4e8f-9a7b-2c5d8e1f0a3b"),
                                       "microsoft|ada"},
                                      vault::SecretBytes{'r', 't'});
    REQUIRE(a);
    return a->id;
  }
  sync::CalendarRef accountCalendar(const std::string& accountId, const std::string& id) { return calendarOf(accountId, id); }
  sync::CalendarRef googleCalendar(const std::string& id) { return calendarOf(googleAccountId, id); }
  sync::CalendarRef oauthCalendar(const std::string& id) { return calendarOf(googleAccountId, id); }
  sync::CalendarRef davCalendar(const std::string& url, bool sourceSide) {
    return calendarOf(sourceSide ? f.workCal.accountId : f.homeCal.accountId, url);
  }
  void pair(const sync::CalendarRef& from, const sync::CalendarRef& to, sync::Direction direction, policy::PairRules rules = {}) {
    sync::PairStore pairs(f.t.db(), f.clock);
    sync::NewPair np;
    np.userId = f.userId;
    np.sourceCalendarId = from.id;
    np.targetCalendarId = to.id;
    np.direction = direction;
    np.rules = std::move(rules);
    auto created = pairs.create(np);
    REQUIRE(created);
    pairId = created->id;
  }
  void restart(sync::SyncOptions options) {
    f.restart(std::move(options));
    f.engine->setWriteObserver([this](std::string_view, std::string_view) { ++writes; });
  }
  sync::SyncReport sync(providers::Provider& source, providers::Provider& target) {
    return previewedSync(*f.engine, pairId, source, target, writes);
  }

 private:
  sync::CalendarRef calendarOf(const std::string& accountId, const std::string& id) {
    sync::CalendarStore calendars(f.t.db(), f.clock);
    auto c = calendars.upsert(accountId, id, id, "Europe/Berlin", true);
    REQUIRE(c);
    return *c;
  }
};

inline const std::string kGoogleUser = "ada@acme.example";

/// A Google Workspace user's primary calendar (the fake; its clock frozen at the engine's now,
/// 2026-11-21 09:00 UTC) and a new Radicale calendar, paired in an EnginePair. Unpack it:
///   GoogleAndRadicale t(From::Google, Direction::OneWay, "prefix");
///   auto& [fake, g, dav, davCal, p] = t;
struct GoogleAndRadicale {
  enum class From { Google, Radicale };
  GoogleFake fake;
  GoogleSide google;
  Dav dav{"radicale"};
  std::string davCalendar;
  EnginePair pair;

  GoogleAndRadicale(From from, sync::Direction direction, const std::string& prefix, policy::PairRules rules = {},
                    const std::map<std::string, std::string>& switches = {})
      : fake(switches), google(prepared(fake), kGoogleUser, kGoogleUser), davCalendar(dav.makeCalendar(prefix)), pair(direction) {
    const auto g = pair.googleCalendar(kGoogleUser);
    const auto d = pair.davCalendar(davCalendar, from == From::Radicale);
    if (from == From::Google) pair.pair(g, d, direction, std::move(rules));
    else pair.pair(d, g, direction, std::move(rules));
  }
  static GoogleFake& prepared(GoogleFake& f) {
    f.addUser(kGoogleUser, "acme.example");
    f.clock({{"now", "2026-11-21T09:00:00Z"}, {"frozen", true}});
    return f;
  }
};

/// Two calendars of the same Google user (primary and "Team"), paired two-way in an EnginePair.
///   GoogleAndGoogle t;  auto& [fake, a, b, team, p] = t;
struct GoogleAndGoogle {
  GoogleFake fake;
  std::string team = GoogleAndRadicale::prepared(fake).addCalendar(kGoogleUser, "Team", "Europe/Berlin");
  GoogleSide primary{fake, kGoogleUser, kGoogleUser};
  GoogleSide second{fake, kGoogleUser, team};
  EnginePair pair{sync::Direction::TwoWay};

  GoogleAndGoogle() { pair.pair(pair.googleCalendar(kGoogleUser), pair.googleCalendar(team), sync::Direction::TwoWay); }
};

/// A CalDAV event as a client writes it: DTSTART/DTEND with their parameters (";TZID=...:..."),
/// a description, and `extra` lines.
inline std::string vevent(const std::string& uid, const std::string& summary, const std::string& start,
                          const std::string& end, const std::string& extra = "") {
  return "BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20261121T000000Z\r\nDTSTART" + start + "\r\nDTEND" + end +
         "\r\nSUMMARY:" + summary + "\r\nDESCRIPTION:notes of " + summary + "\r\n" + extra + "END:VEVENT\r\n";
}

}  // namespace calgate::test
