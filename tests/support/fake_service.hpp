#pragma once
// A contract fake (tests/services/<name>/main.mjs, Node) as C++ tests use it: one fake process per
// test (node main.mjs on a free loopback port, stopped with the object) and its control interface
// over HTTP (act as a user, inject faults, set switches, move its clock, inspect the whole state).
// The destructor fails the test if the fake sent any answer outside its contract. Header-only;
// google_fake.hpp and graph_fake.hpp add each fake's own operations.

#include "calgate/providers/http/access_tokens.hpp"
#include "calgate/providers/http/curl_http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace calgate::test {

/// The JSON line a test service prints once it listens (waits up to 10 s; fails the test if the
/// process ends or prints nothing).
inline nlohmann::json firstJsonLine(Process& process) {
  for (int i = 0; i < 400 && process.currentOut().find('\n') == std::string::npos; ++i) {
    REQUIRE(process.running());
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  const auto line = process.currentOut();
  INFO(process.currentErr());
  REQUIRE(line.find('\n') != std::string::npos);
  return nlohmann::json::parse(line.substr(0, line.find('\n')));
}

class FakeService {
 public:
  /// Starts tests/services/`name`/main.mjs with `switches` (name -> JSON value, see its DEFAULTS).
  FakeService(const std::string& name, const std::map<std::string, std::string>& switches) {
    std::vector<std::string> argv{"/usr/bin/node", std::string(CALGATE_SOURCE_DIR) + "/tests/services/" + name + "/main.mjs",
                                  "--port", "0"};
    for (const auto& [option, value] : switches) {
      argv.push_back("--option");
      argv.push_back(option + "=" + value);
    }
    process_ = std::make_unique<Process>(argv, std::map<std::string, std::string>{}, dir_.path());
    const auto started = firstJsonLine(*process_);
    url = started["url"].get<std::string>();
    controlToken_ = started["controlToken"].get<std::string>();
  }

  ~FakeService() {
    if (!std::uncaught_exceptions()) {
      const auto s = state();
      INFO(s["violations"].dump(1));
      CHECK(s["violations"].empty());
    }
  }
  FakeService(const FakeService&) = delete;
  FakeService& operator=(const FakeService&) = delete;

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

  void faults(const nlohmann::json& rules) { control("POST", "faults", rules); }
  void options(const nlohmann::json& values) { control("POST", "options", values); }
  void clock(const nlohmann::json& spec) { control("POST", "clock", spec); }
  nlohmann::json state() { return control("GET", "state"); }
  /// The API requests the fake answered since the last call.
  std::vector<nlohmann::json> requestsSince(std::size_t& seen) {
    const auto all = state()["requests"];
    std::vector<nlohmann::json> out(all.begin() + static_cast<long>(std::min(seen, all.size())), all.end());
    seen = all.size();
    return out;
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

  std::string url;  ///< the fake's root, e.g. http://127.0.0.1:PORT/

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

/// Tokens for an adapter: `fake`'s access token for `user` (Fake::accessToken); a 401 makes the
/// next one fresh.
template <class Fake>
class FakeTokensFor final : public providers::AccessTokens {
 public:
  FakeTokensFor(Fake& fake, std::string user) : fake_(fake), user_(std::move(user)), token_(fake.accessToken(user_)) {}
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
  Fake& fake_;
  std::string user_;
  std::mutex mutex_;
  std::string token_;
};

}  // namespace calgate::test
