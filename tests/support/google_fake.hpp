#pragma once
// The Google Calendar contract fake (tests/services/google/, Node) as C++ tests use it: one fake
// process per test (node main.mjs on a free loopback port, stopped with the object), its control
// interface over HTTP (act as a user, inject faults, set switches, move its clock, inspect the
// whole state), and an AccessTokens that hands the adapter tokens the fake issued. The destructor
// fails the test if the fake sent any answer outside the discovery document. Header-only.

#include "calgate/providers/google/google_provider.hpp"
#include "calgate/providers/http/curl_http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace calgate::test {

class GoogleFake {
 public:
  static constexpr const char* kClientId = "calgate-test.apps.googleusercontent.com";
  static constexpr const char* kEventsScope = "https://www.googleapis.com/auth/calendar.events";
  static constexpr const char* kListScope = "https://www.googleapis.com/auth/calendar.calendarlist.readonly";

  /// Starts a fake with `switches` (name -> JSON value, see DEFAULTS in server.mjs).
  explicit GoogleFake(const std::map<std::string, std::string>& switches = {}) {
    std::vector<std::string> argv{"/usr/bin/node", std::string(CALGATE_SOURCE_DIR) + "/tests/services/google/main.mjs",
                                  "--port", "0"};
    for (const auto& [name, value] : switches) {
      argv.push_back("--option");
      argv.push_back(name + "=" + value);
    }
    process_ = std::make_unique<Process>(argv, std::map<std::string, std::string>{}, dir_.path());
    for (int i = 0; i < 400 && process_->currentOut().find('\n') == std::string::npos; ++i) {
      REQUIRE(process_->running());
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    const auto line = process_->currentOut();
    INFO(process_->currentErr());
    REQUIRE(line.find('\n') != std::string::npos);
    const auto started = nlohmann::json::parse(line.substr(0, line.find('\n')));
    url = started["url"].get<std::string>();
    controlToken_ = started["controlToken"].get<std::string>();
    control("POST", "clients", {{"clientId", kClientId}, {"clientSecret", "GOCSPX-test"},
                                {"redirectUris", {"http://127.0.0.1:9/oauth/callback"}}});
  }

  ~GoogleFake() {
    if (!std::uncaught_exceptions()) {
      const auto s = state();
      INFO(s["violations"].dump(1));
      CHECK(s["violations"].empty());
    }
  }

  /// The control interface: `method` /__control/`path` with a JSON body; the parsed answer.
  nlohmann::json control(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr) {
    providers::HttpRequest r;
    r.method = method;
    r.url = url + "__control/" + path;
    r.headers = {{"Authorization", "Bearer " + controlToken_}, {"Content-Type", "application/json"}};
    if (!body.is_null()) r.body = body.dump();
    auto response = http_.send(r);
    REQUIRE(response);
    INFO(method << " " << path << ": " << response->body);
    REQUIRE(response->status == 200);
    return nlohmann::json::parse(response->body);
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
  void faults(const nlohmann::json& rules) { control("POST", "faults", rules); }
  void options(const nlohmann::json& values) { control("POST", "options", values); }
  void clock(const nlohmann::json& spec) { control("POST", "clock", spec); }
  nlohmann::json state() { return control("GET", "state"); }
  /// The API requests the fake answered since the last call: [{method, status, query, ...}].
  std::vector<nlohmann::json> requestsSince(std::size_t& seen) {
    const auto all = state()["requests"];
    std::vector<nlohmann::json> out(all.begin() + static_cast<long>(std::min(seen, all.size())), all.end());
    seen = all.size();
    return out;
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

  static std::string encoded(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.') out += static_cast<char>(c);
      else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        out += buf;
      }
    }
    return out;
  }

  std::string url;  ///< the API root, e.g. http://127.0.0.1:PORT/

  /// An HTTP client's options for talking to the fake (plain http on loopback).
  static providers::HttpClientOptions httpOptions() {
    providers::HttpClientOptions o;
    o.allowLoopback = true;
    o.allowPlainHttp = true;
    return o;
  }

 private:
  TempDir dir_;
  std::unique_ptr<Process> process_;
  std::string controlToken_;
  providers::CurlHttpClient http_{httpOptions()};
};

/// Tokens for the adapter: the fake's access token for `user`; a 401 makes the next one fresh.
class FakeTokens final : public providers::google::AccessTokens {
 public:
  FakeTokens(GoogleFake& fake, std::string user) : fake_(fake), user_(std::move(user)), token_(fake.accessToken(user_)) {}
  core::Result<Botan::secure_vector<char>> token() override {
    std::lock_guard lock(mutex_);
    if (token_.empty()) token_ = fake_.accessToken(user_);
    return Botan::secure_vector<char>(token_.begin(), token_.end());
  }
  void rejected() override {
    std::lock_guard lock(mutex_);
    token_.clear();
    ++rejections;
  }
  std::atomic<int> rejections{0};

 private:
  GoogleFake& fake_;
  std::string user_;
  std::mutex mutex_;
  std::string token_;
};

}  // namespace calgate::test
