// The listener finishes requests in flight on shutdown and refuses new ones meanwhile.
#include "calgate/http/dispatcher.hpp"
#include "calgate/http/server.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>

using namespace calgate;

namespace {

/// A listener on a free port with GET /slow (answers `slowBody` once released) and GET /fast.
struct SlowServer {
  std::atomic<bool> slowStarted{false};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  http::Router router;
  http::HttpMetrics metrics;
  std::unique_ptr<http::Dispatcher> dispatcher;
  std::unique_ptr<http::Server> server;

  explicit SlowServer(std::string slowBody) {
    router.add({"GET", "/slow", false, [this, slowBody](http::Request&) {
                  slowStarted = true;
                  released.wait();
                  return http::Response::json(200, slowBody);
                }});
    router.add({"GET", "/fast", false, [](http::Request&) { return http::Response::json(200, "{}"); }});
    dispatcher = std::make_unique<http::Dispatcher>(router, [](std::string_view) -> core::Result<http::Identity> {
      return core::fail(core::ErrorCode::Unauthorized, "no");
    }, metrics, 1024);
    http::ServerConfig config;
    config.port = 0;  // any free port; server->port() tells which
    config.threads = 2;
    server = std::make_unique<http::Server>(*dispatcher, config);
    REQUIRE(server->start());
  }
  void waitForSlow() const {
    while (!slowStarted) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
};

}  // namespace

TEST_CASE("shutdown drains requests in flight and answers 503 to new ones", "[e2e][http]") {
  SlowServer t(R"({"done":true})");
  http::Server& server = *t.server;
  http::Dispatcher& dispatcher = *t.dispatcher;
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());

  auto slow = std::async(std::launch::async, [&] { return test::httpRequest("GET", base + "/slow"); });
  t.waitForSlow();

  auto stopping = std::async(std::launch::async, [&] { return server.shutdown(std::chrono::seconds(10)); });
  while (!dispatcher.draining()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // Sent after draining began, so it is refused whichever reactor thread picks it up; if that
  // thread is the one blocked in /slow, it is answered once /slow is released.
  auto refused = std::async(std::launch::async, [&] { return test::httpRequest("GET", base + "/fast"); });
  refused.wait_for(std::chrono::seconds(2));
  t.release.set_value();
  CHECK(refused.get().status == 503);

  const auto response = slow.get();
  CHECK(response.status == 200);
  CHECK(response.body == R"({"done":true})");
  CHECK(stopping.get() == 0);
  // the listener is closed afterwards
  CHECK(test::httpRequest("GET", base + "/fast").status == 0);
}

TEST_CASE("a client that went away before its answer does not hold a shutdown past its grace", "[e2e][http]") {
  SlowServer t(std::string(256 * 1024, ' ') + "{}");
  http::Server& server = *t.server;
  // a raw client: asks, then hangs up before the answer comes
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(server.port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  const std::string ask = "GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  REQUIRE(::send(fd, ask.data(), ask.size(), 0) == static_cast<ssize_t>(ask.size()));
  t.waitForSlow();
  linger hardClose{1, 0};  // reset, as a client that crashed
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hardClose, sizeof hardClose);
  ::close(fd);
  t.release.set_value();
  // the handler is done; whether Pistache ever reports the lost write or not, nothing runs
  CHECK(server.shutdown(std::chrono::seconds(2)) == 0);
}
