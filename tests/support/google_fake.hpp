#pragma once
// The Google Calendar contract fake (tests/services/google/) as C++ tests use it (fake_service.hpp:
// one process per test, its control interface, no answer outside the discovery document), with
// Google's own operations, and an AccessTokens that hands the adapter tokens the fake issued.
// Header-only.

#include "calgate/providers/google/google_provider.hpp"
#include "support/fake_service.hpp"

#include <map>
#include <string>
#include <vector>

namespace calgate::test {

class GoogleFake : public FakeService {
 public:
  static constexpr const char* kClientId = "calgate-test.apps.googleusercontent.com";
  static constexpr const char* kEventsScope = "https://www.googleapis.com/auth/calendar.events";
  static constexpr const char* kListScope = "https://www.googleapis.com/auth/calendar.calendarlist.readonly";

  /// Starts a fake with `switches` (name -> JSON value, see DEFAULTS in server.mjs).
  explicit GoogleFake(const std::map<std::string, std::string>& switches = {}) : FakeService("google", switches) {
    control("POST", "clients", {{"clientId", kClientId}, {"clientSecret", "GOCSPX-test"},
                                {"redirectUris", {"http://127.0.0.1:9/oauth/callback"}}});
  }

  void addUser(const std::string& email, const std::string& hd = "") {
    nlohmann::json u{{"email", email}};
    if (!hd.empty()) u["hd"] = hd;
    control("POST", "users", u);
  }
  std::string addCalendar(const std::string& owner, const std::string& summary, const std::string& zone = "UTC") {
    return control("POST", "calendars", {{"owner", owner}, {"summary", summary}, {"timeZone", zone}})["id"].get<std::string>();
  }
  /// An access token for `user` with both calendar scopes.
  std::string accessToken(const std::string& user) {
    return control("POST", "tokens", {{"user", user}, {"clientId", kClientId}, {"scopes", {kEventsScope, kListScope}}})["access_token"]
        .get<std::string>();
  }
  nlohmann::json userCreates(const std::string& calendarId, const nlohmann::json& event) {
    return control("POST", "calendars/" + encoded(calendarId) + "/events", event);
  }
  nlohmann::json userEdits(const std::string& calendarId, const std::string& eventId, const nlohmann::json& patch) {
    return control("PATCH", "calendars/" + encoded(calendarId) + "/events/" + encoded(eventId), patch);
  }
  void userDeletes(const std::string& calendarId, const std::string& eventId) {
    control("DELETE", "calendars/" + encoded(calendarId) + "/events/" + encoded(eventId));
  }
  void expireSyncTokens(const std::string& calendarId) {
    control("POST", "calendars/" + encoded(calendarId) + "/expire-sync-tokens", nlohmann::json::object());
  }
  /// The events the fake holds in `calendarId` (cancelled ones too).
  nlohmann::json events(const std::string& calendarId) {
    const auto all = state();
    for (const auto& c : all["calendars"]) {
      if (c["id"] == calendarId) return c["events"];
    }
    FAIL("no calendar " << calendarId);
    return {};
  }
};

/// Tokens for the adapter: the fake's access token for a user; a 401 makes the next one fresh.
using FakeTokens = FakeTokensFor<GoogleFake>;

}  // namespace calgate::test
