#pragma once
// The Microsoft Graph contract fake (tests/services/microsoft/) as C++ tests use it
// (fake_service.hpp: one process per test, its control interface, no answer outside the CSDL),
// with Graph's own operations. Header-only.

#include "support/fake_service.hpp"

#include <map>
#include <string>

namespace calgate::test {

class GraphFake : public FakeService {
 public:
  static constexpr const char* kClientId = "11111111-2222-4333-8444-555555555555";

  /// Starts a fake with `switches` (name -> JSON value, see DEFAULTS in server.mjs). By default
  /// Graph's looseness is on (replays, duplicates, empty pages, shuffled order).
  explicit GraphFake(const std::map<std::string, std::string>& switches = {}) : FakeService("microsoft", switches) {
    control("POST", "clients", {{"clientId", kClientId}, {"clientSecret", "test~secret"},
                                {"redirectUris", {"http://127.0.0.1:9/oauth/callback"}}});
  }

  /// A work account; returns its default calendar's id.
  std::string addUser(const std::string& email) {
    control("POST", "users", {{"email", email}});
    return defaultCalendar(email);
  }
  std::string defaultCalendar(const std::string& email) {
    const auto all = state();  // kept: a range-for over a temporary's member would dangle
    for (const auto& c : all["calendars"]) {
      if (c["owner"] == email && c["isDefault"] == true) return c["id"].get<std::string>();
    }
    FAIL("no default calendar of " << email);
    return {};
  }
  std::string addCalendar(const std::string& owner, const std::string& name) {
    return control("POST", "calendars", {{"owner", owner}, {"name", name}})["id"].get<std::string>();
  }
  void share(const std::string& calendarId, const std::string& user, const std::string& role) {
    control("POST", "calendars/" + encoded(calendarId) + "/share", {{"user", user}, {"role", role}});
  }
  /// An access token for `user` with Calendars.ReadWrite.
  std::string accessToken(const std::string& user) {
    return control("POST", "tokens", {{"user", user}, {"clientId", kClientId}, {"scopes", {"openid", "Calendars.ReadWrite"}}})["access_token"]
        .get<std::string>();
  }
  nlohmann::json userCreates(const std::string& calendarId, const nlohmann::json& event) {
    return control("POST", "calendars/" + encoded(calendarId) + "/events", event);
  }
  nlohmann::json userEdits(const std::string& eventId, const nlohmann::json& patch) {
    return control("PATCH", "events/" + encoded(eventId), patch);
  }
  void userDeletes(const std::string& eventId) { control("DELETE", "events/" + encoded(eventId)); }
  void expireDelta(const std::string& calendarId) {
    control("POST", "calendars/" + encoded(calendarId) + "/expire-delta", nlohmann::json::object());
  }
  /// The stored events of `calendarId` (masters with their exceptions and cancellations).
  nlohmann::json events(const std::string& calendarId) {
    const auto all = state();
    for (const auto& c : all["calendars"]) {
      if (c["id"] == calendarId) return c["events"];
    }
    FAIL("no calendar " << calendarId);
    return {};
  }
};

using GraphTokens = FakeTokensFor<GraphFake>;

}  // namespace calgate::test
