// The listener finishes requests in flight on shutdown and refuses new ones meanwhile.
#include "calgate/http/dispatcher.hpp"
#include "calgate/http/server.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <thread>

using namespace calgate;


TEST_CASE("shutdown drains requests in flight and answers 503 to new ones", "[e2e][http]") {
  std::atomic<bool> slowStarted{false};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  http::Router router;
  router.add({"GET", "/slow", false, [&](http::Request&) {
                slowStarted = true;
                released.wait();
                return http::Response::json(200, R"({"done":true})");
              }});
  router.add({"GET", "/fast", false, [](http::Request&) { return http::Response::json(200, "{}"); }});
  http::HttpMetrics metrics;
  http::Dispatcher dispatcher(router, [](std::string_view) -> core::Result<http::Identity> {
    return core::fail(core::ErrorCode::Unauthorized, "no");
  }, metrics, 1024);
  http::ServerConfig config;
  config.port = 0;  // any free port; server.port() tells which
  config.threads = 2;
  http::Server server(dispatcher, config);
  REQUIRE(server.start());
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());

  auto slow = std::async(std::launch::async, [&] { return test::httpRequest("GET", base + "/slow"); });
  while (!slowStarted) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  auto stopping = std::async(std::launch::async, [&] { return server.shutdown(std::chrono::seconds(10)); });
  while (!dispatcher.draining()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // Sent after draining began, so it is refused whichever reactor thread picks it up; if that
  // thread is the one blocked in /slow, it is answered once /slow is released.
  auto refused = std::async(std::launch::async, [&] { return test::httpRequest("GET", base + "/fast"); });
  refused.wait_for(std::chrono::seconds(2));
  release.set_value();
  CHECK(refused.get().status == 503);

  const auto response = slow.get();
  CHECK(response.status == 200);
  CHECK(response.body == R"({"done":true})");
  CHECK(stopping.get() == 0);
  // the listener is closed afterwards
  CHECK(test::httpRequest("GET", base + "/fast").status == 0);
}
